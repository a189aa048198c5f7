"""SynthRef expressions: the uniqueness of every expression, re-checked with an independent
parser and evaluator on the written files, and the difficulty shares (docs/design.md §4)."""

from __future__ import annotations

import json
from pathlib import Path

from tvnet.data.tokenize import tokenize

# -- an independent reading of the SynthRef language ------------------------------------------
# Written from the documented semantics, not from the generator's tables: colour / texture /
# shape words filter; "small"/"big" pick the strict extreme of the rest; relations compare
# centroids; extremes and ordinals sort; absolute positions are the thirds of the image.
SHAPE = {
    "circle": "circle", "disc": "circle", "disk": "circle", "square": "square", "box": "square",
    "triangle": "triangle", "star": "star", "ring": "ring", "donut": "ring", "hoop": "ring",
    "cross": "cross", "plus": "cross", "diamond": "diamond", "rhombus": "diamond",
    "hexagon": "hexagon", "heart": "heart", "crescent": "crescent", "moon": "crescent",
}  # fmt: skip
GENERIC = {"shape", "object", "thing", "one"}
COLOUR = {
    "red": "red", "orange": "orange", "yellow": "yellow", "green": "green", "blue": "blue",
    "purple": "purple", "violet": "purple", "pink": "pink", "white": "white",
}  # fmt: skip
TEXTURE = {
    "plain": "plain", "solid": "plain", "striped": "striped", "stripy": "striped",
    "stripes": "striped", "dotted": "dotted", "spotted": "dotted", "dots": "dotted",
    "spots": "dotted", "checkered": "checkered", "chequered": "checkered",
    "checked": "checkered", "checks": "checkered",
}  # fmt: skip
SIZE = {"small": "small", "little": "small", "big": "big", "large": "big"}
FILLER = {
    "the", "that", "which", "is", "and", "with", "a", "pattern", "polka", "sign", "to", "on",
    "at", "in", "just", "very", "of", "from", "corner", "side",
}  # fmt: skip
POSITION = {"left", "right", "top", "bottom", "upper", "lower", "middle", "center", "centre"}
RELATION = {"above": "above", "over": "above", "below": "below", "under": "below",
            "beneath": "below", "underneath": "below"}  # fmt: skip
EXTREME = {
    "leftmost": "left", "rightmost": "right", "topmost": "top", "highest": "top",
    "uppermost": "top", "bottommost": "bottom", "lowest": "bottom", "lowermost": "bottom",
    "largest": "big", "biggest": "big", "smallest": "small", "tiniest": "small",
}  # fmt: skip
LOCATION = POSITION | set(RELATION) | {k for k, v in EXTREME.items() if v not in ("big", "small")}
LOCATION |= {"most", "far", "furthest", "second", "third", "side", "corner"}


def parse_np(tokens: list[str]) -> dict[str, str]:
    np_: dict[str, str] = {}
    for t in tokens:
        for lex, key in (
            (SHAPE, "shape"),
            (COLOUR, "colour"),
            (TEXTURE, "texture"),
            (SIZE, "size"),
        ):
            if t in lex:
                assert np_.get(key, lex[t]) == lex[t], f"two {key}s in {tokens}"
                np_[key] = lex[t]
                break
        else:
            assert t in GENERIC or t in FILLER, f"unknown word {t!r} in {tokens}"
    assert set(np_) - {"size"}, f"noun phrase without any attribute: {tokens}"
    return np_


def eval_np(np_: dict[str, str], anns: list[dict]) -> list[int]:
    cand = [
        i
        for i, a in enumerate(anns)
        if all(a[k] == np_[k] for k in ("shape", "colour", "texture") if k in np_)
    ]
    if "size" not in np_:
        return cand
    areas = sorted((anns[i]["area"], i) for i in cand)
    if len(areas) < 2:
        return []
    if np_["size"] == "small":
        return [areas[0][1]] if areas[0][0] < areas[1][0] else []
    return [areas[-1][1]] if areas[-1][0] > areas[-2][0] else []


def sort_key(side: str, a: dict) -> float:
    cx, cy = a["center"]
    return {"left": cx, "right": -cx, "top": cy, "bottom": -cy}[side]


def denotation(raw: str, anns: list[dict], h: int, w: int) -> tuple[str, list[int]]:
    """(kind, objects the expression picks out) under the documented semantics."""
    toks = tokenize(raw)
    for k, t in enumerate(toks):  # relation: TARGET REL LANDMARK
        rel = RELATION.get(t)
        if t in ("left", "right") and k + 1 < len(toks) and toks[k + 1] == "of":
            rel, after = t, toks[k + 2 :]
        elif rel:
            after = toks[k + 1 :]
        else:
            continue
        target, landmark = eval_np(parse_np(toks[:k]), anns), eval_np(parse_np(after), anns)
        assert len(landmark) == 1, f"{raw!r}: landmark is not unique"
        lx, ly = anns[landmark[0]]["center"]

        def on_side(a: dict, rel: str = rel, lx: float = lx, ly: float = ly) -> bool:
            cx, cy = a["center"]
            return {"left": cx < lx, "right": cx > lx, "above": cy < ly, "below": cy > ly}[rel]

        return "relation", [i for i in target if i != landmark[0] and on_side(anns[i])]
    if "second" in toks or "third" in toks:  # ordinal: the K-th N from the SIDE
        rank = 1 if "second" in toks else 2
        side = toks[toks.index("from") + 2]
        rest = [t for t in toks if t not in ("second", "third", side)]
        cand = sorted(eval_np(parse_np(rest), anns), key=lambda i: sort_key(side, anns[i]))
        keys = [sort_key(side, anns[i]) for i in cand]
        if len(cand) <= rank or len(set(keys)) != len(keys):
            return "ordinal", []
        return "ordinal", [cand[rank]]
    key = next((EXTREME[t] for t in toks if t in EXTREME), None)
    if key is None and ({"most", "far", "furthest"} & set(toks)):
        key = next(t for t in toks if t in ("left", "right", "top", "bottom"))
    if key is not None:  # extreme
        drop = set(EXTREME) | {"most", "far", "furthest", key}
        cand = eval_np(parse_np([t for t in toks if t not in drop]), anns)
        if key in ("big", "small"):
            vals = [(anns[i]["area"] * (1 if key == "small" else -1), i) for i in cand]
        else:
            vals = [(sort_key(key, anns[i]), i) for i in cand]
        vals.sort()
        if len(vals) < 2 or vals[0][0] == vals[1][0]:
            return "ordinal", []
        return "ordinal", [vals[0][1]]
    pos = [t for t in toks if t in POSITION]
    if pos:  # absolute: thirds of the image

        def inside(a: dict) -> bool:
            cx, cy = a["center"]
            ok = True
            for p in pos:
                ok &= {
                    "left": cx < w / 3,
                    "right": cx > 2 * w / 3,
                    "top": cy < h / 3,
                    "upper": cy < h / 3,
                    "bottom": cy > 2 * h / 3,
                    "lower": cy > 2 * h / 3,
                }.get(p, w / 3 <= cx <= 2 * w / 3 and h / 3 <= cy <= 2 * h / 3)
            return ok

        cand = eval_np(parse_np([t for t in toks if t not in POSITION]), anns)
        return "absolute", [i for i in cand if inside(anns[i])]
    return "attribute", eval_np(parse_np(toks), anns)


# -- tests ---------------------------------------------------------------------------------------
def test_every_expression_picks_out_exactly_its_referent(synth_dir: Path) -> None:
    inst = json.loads((synth_dir / "instances.json").read_text())
    refs = json.loads((synth_dir / "refs(synth).json").read_text())
    images = {im["id"]: im for im in inst["images"]}
    per_image: dict[int, list[dict]] = {}
    for a in inst["annotations"]:
        per_image.setdefault(a["image_id"], []).append(a)
    kinds: dict[str, int] = {}
    n = 0
    for ref in refs:
        anns = per_image[ref["image_id"]]
        im = images[ref["image_id"]]
        target = [i for i, a in enumerate(anns) if a["id"] == ref["ann_id"]]
        assert len(target) == 1
        assert anns[target[0]]["visible_fraction"] >= 0.75  # never a mostly hidden referent
        for s in ref["sentences"]:
            kind, picked = denotation(s["raw"], anns, im["height"], im["width"])
            assert picked == target, f"{s['raw']!r} picks {picked}, referent {target}"
            assert kind == s["type"], s["raw"]
            kinds[kind] = kinds.get(kind, 0) + 1
            n += 1
    assert n == 520
    assert set(kinds) == {"attribute", "relation", "ordinal", "absolute"}
    assert min(kinds.values()) >= 0.1 * n


def test_difficulty_shares(synth_dir: Path) -> None:
    inst = json.loads((synth_dir / "instances.json").read_text())
    refs = json.loads((synth_dir / "refs(synth).json").read_text())
    images = {im["id"]: im for im in inst["images"]}
    anns = {a["id"]: a for a in inst["annotations"]}
    shapes: dict[int, list[str]] = {}
    for a in inst["annotations"]:
        shapes.setdefault(a["image_id"], []).append(a["shape"])
    small = no_loc = n = 0
    scene_has_distractor: dict[int, bool] = {}
    for ref in refs:
        if ref["split"] not in ("val", "test"):
            continue
        a, im = anns[ref["ann_id"]], images[ref["image_id"]]
        dup = shapes[im["id"]].count(a["shape"]) > 1
        scene_has_distractor[im["id"]] = scene_has_distractor.get(im["id"], False) or dup
        for s in ref["sentences"]:
            n += 1
            small += a["area"] / (im["height"] * im["width"]) < 0.05
            no_loc += not set(tokenize(s["raw"])) & LOCATION
    assert n == 400
    assert small / n >= 0.25
    assert no_loc / n >= 0.20
    assert sum(scene_has_distractor.values()) / len(scene_has_distractor) >= 0.5
    hw = {(im["height"], im["width"]) for im in images.values()}
    assert any(h != w for h, w in hw) and any(h == w for h, w in hw)
