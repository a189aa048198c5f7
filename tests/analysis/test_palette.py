"""analysis/palette.py: a colour per Table 1 variant, lighter for its earlier runs."""

from __future__ import annotations

from analysis.palette import FAMILY, LIGHTEST, run_colours


def test_a_family_colour_per_variant_shaded_by_budget():
    names = [
        "full (480k samples)",
        "baseline (72k samples)",
        "full (72k samples)",
        "full (160k samples)",
        "res",
        "oracle",
    ]
    c = run_colours(names)
    assert set(c) == set(names)
    # the last run of a family (the largest budget) takes the family's colour itself
    assert c["full (480k samples)"] == FAMILY["full"] == "#ef553b"
    assert c["baseline (72k samples)"] == FAMILY["baseline"] and c["res"] == FAMILY["res"]
    # the first is mixed 60 % with white, by hand: 0xef + (255 − 0xef) · 0.6 = 248.6 → f9, …
    assert LIGHTEST == 0.6 and c["full (72k samples)"] == "#f9bbb1"
    # the one between, half as much (0.3): ef→f4, 55→88, 3b→76
    assert c["full (160k samples)"] == "#f48876"
    # a name outside Table 1 takes another colour, none of the four families'
    assert c["oracle"] not in FAMILY.values()
    # the same names in another order: the same colours
    assert run_colours(reversed(names)) == c
