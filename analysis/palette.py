"""One colour per Table 1 variant, shaded per run of it, for every figure with a line per
variant (the report's figures, the dashboard's charts): "full (72k samples)" a light red,
"full (480k samples)" the full red, so that two dozen runs stay readable by family. Names
outside Table 1 ("oracle") take the other colours in turn. Torch- and matplotlib-free."""

from __future__ import annotations

from collections.abc import Iterable

from analysis.tables import model_variant, variant_key

# plotly's default colours (the dashboard's size page uses plotly; its SVG charts take these)
PLOTLY = (
    "#636efa",
    "#ef553b",
    "#00cc96",
    "#ab63fa",
    "#ffa15a",
    "#19d3f3",
    "#ff6692",
    "#b6e880",
    "#ff97ff",
    "#fecb52",
)
# Table 1's four take theirs first, other names the rest in turn
FAMILY = {"baseline": PLOTLY[0], "res": PLOTLY[2], "res_cct": PLOTLY[4], "full": PLOTLY[1]}
OTHERS = tuple(c for c in PLOTLY if c not in FAMILY.values())
LIGHTEST = 0.6  # the first run of a family: its colour mixed this much with white


def _mix(colour: str, white: float) -> str:
    rgb = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(c + (255 - c) * white):02x}" for c in rgb)


def run_colours(names: Iterable[str]) -> dict[str, str]:
    """name → colour: the family's colour (:data:`FAMILY`, by
    :func:`analysis.tables.model_variant`), lighter for its earlier runs in Table 1's order
    (:func:`analysis.tables.variant_key`: smaller budgets first), the last one full."""
    names = list(dict.fromkeys(map(str, names)))
    families: dict[str, list[str]] = {}
    for n in sorted(names, key=variant_key):
        families.setdefault(model_variant(n), []).append(n)
    others = iter(OTHERS * (len(families) // len(OTHERS) + 1))
    out = {}
    for family, members in families.items():
        base = FAMILY.get(family) or next(others)
        for i, n in enumerate(members):
            t = i / (len(members) - 1) if len(members) > 1 else 1.0
            out[n] = _mix(base, LIGHTEST * (1.0 - t))
    return out
