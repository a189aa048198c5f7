"""The SynthRef data card: distributions recomputed from the written files (docs/design.md §4).

What ``tvnet synth OUT --stats`` prints.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

from tvnet.config import MEDIUM_MAX, SMALL_MAX
from tvnet.data.synthref.scene import SPLITS
from tvnet.data.synthref.vocabulary import LOCATION_WORDS
from tvnet.data.tokenize import tokenize


# -- data card ---------------------------------------------------------------------------------
def synth_stats(out_dir: str | os.PathLike) -> dict[str, Any]:
    """Distributions of a generated SynthRef folder, recomputed from its files; a ValueError
    naming the folder when they are not SynthRef's (another layout, a damaged file)."""
    try:
        return _synth_stats(out_dir)
    except (KeyError, TypeError, AttributeError) as e:
        raise ValueError(
            f"{out_dir} is not a SynthRef dataset as `tvnet synth` writes it "
            f"({type(e).__name__}: {e})"
        ) from e


def _synth_stats(out_dir: str | os.PathLike) -> dict[str, Any]:
    from tvnet.io import read_json

    out = Path(out_dir)
    inst = read_json(out / "instances.json", "SynthRef instances.json")
    refs = read_json(out / "refs(synth).json", "SynthRef refs file")
    images = {im["id"]: im for im in inst["images"]}
    anns = {a["id"]: a for a in inst["annotations"]}
    per_image: dict[int, list[dict[str, Any]]] = {}
    for a in inst["annotations"]:
        per_image.setdefault(a["image_id"], []).append(a)
    stats: dict[str, Any] = {"seed": inst.get("info", {}).get("seed"), "splits": {}}
    all_vocab: set[str] = set()
    for split in SPLITS:
        srefs = [r for r in refs if r["split"] == split]
        if not srefs:
            continue
        sizes, kinds, vocab = Counter(), Counter(), set()
        n = no_loc = distract = occluded = tokens = 0
        scene_distract: dict[int, bool] = {}
        for r in srefs:
            a = anns[r["ann_id"]]
            im = images[r["image_id"]]
            frac = a["area"] / (im["height"] * im["width"])
            has_dup = any(
                b["id"] != a["id"] and b["shape"] == a["shape"] for b in per_image[im["id"]]
            )
            scene_distract[im["id"]] = scene_distract.get(im["id"], False) or has_dup
            for s in r["sentences"]:
                n += 1
                # the size bins of docs/design.md §5, as tvnet.eval.metrics.size_bin cuts them
                sizes[
                    "small" if frac < SMALL_MAX else "medium" if frac < MEDIUM_MAX else "big"
                ] += 1
                kinds[s.get("type", "?")] += 1
                toks = tokenize(s["raw"])
                vocab.update(toks)
                tokens += len(toks)
                no_loc += not any(t in LOCATION_WORDS for t in toks)
                distract += has_dup
                occluded += a["visible_fraction"] < 0.999
        all_vocab |= vocab
        img_ids = sorted(scene_distract)
        n_obj = Counter(len(per_image[i]) for i in img_ids)
        hs = [images[i]["height"] for i in img_ids]
        ws = [images[i]["width"] for i in img_ids]
        stats["splits"][split] = {
            "samples": n,
            "refs": len(srefs),
            "scenes": len(img_ids),
            "size_bins": {k: round(sizes[k] / n, 4) for k in ("small", "medium", "big")},
            "expression_types": {k: round(kinds[k] / n, 4) for k in sorted(kinds)},
            "no_location_share": round(no_loc / n, 4),
            "distractor_share": round(distract / n, 4),
            "scene_distractor_share": round(sum(scene_distract.values()) / len(img_ids), 4),
            "occluded_referent_share": round(occluded / n, 4),
            "objects_per_scene": {str(k): n_obj[k] for k in sorted(n_obj)},
            "mean_objects_per_scene": round(sum(k * v for k, v in n_obj.items()) / len(img_ids), 3),
            "mean_tokens": round(tokens / n, 3),
            "vocabulary_size": len(vocab),
            "image_height": [min(hs), max(hs)],
            "image_width": [min(ws), max(ws)],
            "square_share": round(sum(h == w for h, w in zip(hs, ws)) / len(img_ids), 4),
        }
    stats["vocabulary_size"] = len(all_vocab)
    stats["categories"] = len(inst["categories"])
    return stats


def format_stats(stats: dict[str, Any]) -> str:
    """The data card as a Markdown table (what ``tvnet synth --stats`` prints)."""
    splits = list(stats["splits"])
    rows: list[tuple[str, list[str]]] = []

    def row(label: str, fn: Any) -> None:
        rows.append((label, [fn(stats["splits"][s]) for s in splits]))

    pct = "{:.1%}".format
    row("expressions (samples)", lambda s: str(s["samples"]))
    row("refs (objects referred to)", lambda s: str(s["refs"]))
    row("scenes (images)", lambda s: str(s["scenes"]))
    lo, hi = f"{SMALL_MAX * 100:g}", f"{MEDIUM_MAX * 100:g}"  # the bins of SIZE_BIN_RULE
    row(f"referent < {lo} % of image (small)", lambda s: pct(s["size_bins"]["small"]))
    row(f"referent {lo}–{hi} % (medium)", lambda s: pct(s["size_bins"]["medium"]))
    row(f"referent ≥ {hi} % (big)", lambda s: pct(s["size_bins"]["big"]))
    kinds = sorted({k for s in stats["splits"].values() for k in s["expression_types"]})
    for k in kinds:
        row(f"type: {k}", lambda s, k=k: pct(s["expression_types"].get(k, 0.0)))
    row("no location words", lambda s: pct(s["no_location_share"]))
    row("referent has a same-shape distractor (samples)", lambda s: pct(s["distractor_share"]))
    row("… (scenes)", lambda s: pct(s["scene_distractor_share"]))
    row("referent partly occluded", lambda s: pct(s["occluded_referent_share"]))
    row("objects per scene (mean)", lambda s: f"{s['mean_objects_per_scene']:.2f}")
    row(
        "objects per scene (2…8)",
        lambda s: " ".join(str(s["objects_per_scene"].get(str(k), 0)) for k in range(2, 9)),
    )
    row("tokens per expression (mean)", lambda s: f"{s['mean_tokens']:.2f}")
    row("vocabulary (split)", lambda s: str(s["vocabulary_size"]))
    row(
        "image height / width (px)",
        lambda s: (
            f"{s['image_height'][0]}–{s['image_height'][1]} / {s['image_width'][0]}–{s['image_width'][1]}"
        ),
    )
    row("square images", lambda s: pct(s["square_share"]))
    lines = [
        f"SynthRef data card (seed {stats['seed']}, {stats['categories']} shape categories, "
        f"vocabulary {stats['vocabulary_size']} words)",
        "",
        "| | " + " | ".join(splits) + " |",
        "|---|" + "---:|" * len(splits),
    ]
    lines += [f"| {label} | " + " | ".join(vals) + " |" for label, vals in rows]
    return "\n".join(lines)
