"""Does the model read an expression inside the sentence a person types around it? (issue 23,
"Wording": paraphrases, not only synonyms)

Writes a copy of one SynthRef split whose expressions are each put, unchanged, into one carrier
frame that a demo user might type ("find the small green star", "where is the striped box?",
"the small green star please"); the referent stays the same. Evaluate a checkpoint on the copy
and compare with the original dump on every sample (research/wording_kept.py). The frames were
fixed before the first measurement and are not a list any code reads.

    python research/carriers.py --data data/synthref --split val --out data/synthref-carriers
    tvnet eval --checkpoint CKPT --data data/synthref-carriers --split val --pool POOL_COPY --out D
    python research/wording_kept.py ORIGINAL_DUMP D
"""

from __future__ import annotations

import json
import random

from paraphrase import (  # research/ is sys.path[0] as a script
    copy_arguments,
    set_sentence,
    write_copy,
)

FRAMES = (
    "find {}",
    "show me {}",
    "where is {}?",
    "segment {}",
    "please select {}",
    "I mean {}",
    "can you find {}?",
    "{} please",
    "look for {}",
    "the object I want is {}",
    "it's {}",
    "highlight {}",
)


def framed(sentence: str, frame: str) -> str:
    """``sentence`` (its first letter lowered and a final period dropped) inside ``frame``."""
    core = sentence.strip().rstrip(".")
    core = core[:1].lower() + core[1:]
    return frame.format(core)


def main(argv: list[str] | None = None) -> int:
    ap = copy_arguments(__doc__.split("\n\n")[0])
    ap.add_argument(
        "--frames",
        choices=("mine", "heldout8"),
        default="mine",
        help="the frames above, or research/heldout8.py's, written blind",
    )
    args = ap.parse_args(argv)
    frames = FRAMES
    if args.frames == "heldout8":
        from heldout8 import FRAMES8 as frames

    refs_file = next(args.data.glob("refs(*).json"))
    refs = [r for r in json.loads(refs_file.read_text()) if r["split"] == args.split]
    rng = random.Random(args.seed)
    total = 0
    for r in refs:
        for s in r["sentences"]:
            total += 1
            s["original"] = s["sent"]
            set_sentence(s, framed(s["sent"], rng.choice(frames)))
    write_copy(args.data, args.out, refs_file.name, refs)
    print(f"{total} {args.split} expressions framed → {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
