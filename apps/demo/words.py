"""The words view (docs/design.md §7): the expression with each word shaded by its influence,
how much of the mask moves when that word alone is dropped (``Predictor.word_influence``,
1 − IoU of the mask without the word against the answer's mask)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from apps.demo.maps import share as pct

SHADE = (249, 142, 9)  # the word shading's colour (an inferno orange), its alpha ∝ influence

HINT = (
    '<p class="words-hint">Press <b>Which words mattered?</b> to drop each word of the '
    "expression in turn and see how much of the mask moves without it.</p>"
)

CSS = """
#words .words-line { font-size: 1.15em; line-height: 2.3; }
#words .word { padding: 2px 4px; border-radius: 4px; border: 1px solid rgba(0,0,0,0.08); }
#words .word sub { font-size: 0.62em; margin-left: 2px; opacity: 0.8; }
#words .words-ramp { display: inline-block; width: 120px; height: 10px; border-radius: 3px;
                     vertical-align: middle; margin: 0 6px;
                     background: linear-gradient(to right, rgba(249,142,9,0.06),
                                 rgba(249,142,9,0.9)); }
"""


def words_html(expression: str, words: Sequence[Any]) -> str:
    """``expression`` with each of ``words`` (``tvnet.WordInfluence``: word, start, end,
    influence) shaded by its influence relative to the largest, each with its value; the
    characters between words (spaces, punctuation) as they were typed."""
    if not words:
        return '<p class="words-none">The expression has no words to drop.</p>'
    top = max(float(w.influence) for w in words)
    parts, pos = [], 0
    for w in words:
        start, end = int(w.start), int(w.end)
        parts.append(escape(expression[pos:start]))
        share = float(w.influence) / top if top > 0 else 0.0
        alpha = 0.06 + 0.84 * share
        text = escape(expression[start:end] or str(w.word))
        title = escape(f"without “{w.word}”: {pct(w.influence)} of the mask changes", quote=True)
        parts.append(
            f'<span class="word" data-influence="{float(w.influence):.6f}" title="{title}" '
            f'style="background: rgba{(*SHADE, round(alpha, 3))}">{text}<sub>'
            f"{pct(w.influence)}</sub></span>"
        )
        pos = end
    parts.append(escape(expression[pos:]))
    if top <= 0:
        summary = (
            "No single word moves the mask: dropping any one of them leaves it as it is (the "
            "answer does not hinge on one word)."
        )
    else:
        best = max(words, key=lambda w: float(w.influence))
        summary = (
            f"“{escape(str(best.word))}” matters most: without it {pct(best.influence)} of the "
            "mask changes."
        )
    legend = (
        f'<div class="words-legend">shade: 0 %<span class="words-ramp"></span>{pct(top)} '
        "(the largest here) of the mask changes when the word is dropped (1 − IoU)</div>"
    )
    return f'<div class="words-line">{"".join(parts)}</div><p>{summary}</p>{legend}'
