"""Does reading an unknown head noun as "object" help? (issue 23, "Wording"; design.md §6)

``research/reading_rule.py --rule generic_heads``, kept under its first name:

    python research/paraphrase.py --data data/synthref --split val --out data/p6 --words heldout6
    python research/generic_heads.py data/p6 [data/p7 …] [--all]
"""

from __future__ import annotations

from reading_rule import main  # research/ is sys.path[0] as a script

if __name__ == "__main__":
    raise SystemExit(main(rule="generic_heads"))
