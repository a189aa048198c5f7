"""The Markdown and tables the demo page shows: the model note, the verdict on an answer (its
warnings and confidence, docs/design.md §7), the stale marking, the latency line, the
neighbour's caption, the retrieval's candidate table and the JSON summary of an answer."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from apps.demo.maps import share
from tvnet import CORRECT_IOU, VARIANTS, lineage, training_time_summary

if TYPE_CHECKING:  # pragma: no cover
    from apps.demo.models import Models, Result

REPO = Path(__file__).resolve().parents[2]
TITLE = "TV-Net · referring image segmentation"
VARIANT_LABEL = {v: flags.label for v, flags in VARIANTS.items()}  # the paper's Table 1 rows


def result_summary(r: Result) -> dict[str, Any]:
    """The answer as the page's JSON panel shows it: mask, verdict, neighbour, words, timings."""
    pred, nb, inf = r.pred, r.pred.neighbour, r.influence
    return {
        "variant": pred.variant,
        "mirror_averaged": bool(pred.mirror),
        "expression": r.expression,
        "mask_fraction": round(r.mask_pixels / (r.size[0] * r.size[1]), 5),
        "mask_pixels": r.mask_pixels,
        "size": list(r.size),
        "confident": bool(pred.confident),
        "confidence": None if pred.confidence is None else round(float(pred.confidence), 4),
        "score": None if pred.score is None else round(float(pred.score), 4),
        "warnings": list(pred.warnings),
        "neighbour": None
        if nb is None
        else {
            "pool_index": nb.index,
            "image_id": nb.image_id,
            "sample_id": nb.sample_id,
            "sentence": nb.sentence,
            "retrieved": nb.index == r.retrieval_pick,
        },
        "neighbour_influence": None
        if inf is None
        else {"changed": round(float(inf.changed), 5), "iou": round(float(inf.iou), 5)},
        "chosen_neighbour": r.chosen,
        "unknown_words": pred.unknown_words,
        "unseen_words": pred.unseen_words,  # read, but never met in training
        "read_as": pred.expression,  # the expression with unseen words rewritten
        "rewrites": [list(p) for p in pred.rewrites],
        "notes": pred.notes,
        "timings_ms": {k: round(v, 1) for k, v in {**pred.timings, **r.extra_ms}.items()},
    }


def model_note(models: Models) -> str:
    p = models.get(None)
    info, cfg = p.info, p.model.cfg
    data, train = info.get("data") or {}, info.get("train") or {}
    ckpt = _rel(info.get("checkpoint"))
    parts = [
        f"**Model:** {VARIANT_LABEL.get(p.variant, p.variant)} — `{cfg.preset}` preset, "
        f"`{cfg.backbone}` backbone, {cfg.input_size}×{cfg.input_size} input, "
        f"checkpoint `{ckpt}`" + (f" (step {info['step']})" if info.get("step") else "") + "."
    ]
    if data:
        n = data.get("train_samples")
        parts.append(
            f"**Trained on** {data.get('name', '?')} train split"
            + (f" ({n:,} expressions)" if n else "")
            + (f", {train['steps']:,} steps of batch {train.get('batch_size')}" if train else "")
            + "."
        )
        if info.get("init"):
            parts.append(lineage_note(info["init"], p.variant))
    else:
        parts.append(
            "⚠️ **This checkpoint records no training data** (untrained or hand-made): "
            "its masks mean nothing."
        )
    if p.retriever is not None:
        parts.append(
            f"**Retrieval pool:** `{_rel(info.get('pool'))}` ({len(p.retriever.pool):,} expressions)."
        )
    parts.append(f"Variants available: {', '.join(f'`{v}`' for v in models.variants)}.")
    if cfg.text_encoder != "hf_tokens":  # a closed word vocabulary (GloVe + LSTM)
        parts.append(
            f"Vocabulary: {len(p.vocab):,} words; others are read as the known word WordNet "
            "relates them to, else as blanks."
        )
    else:  # word pieces: any wording reaches the model
        said = f"Reads any wording as word pieces ({len(p.vocab):,} pieces)"
        if p.training_words:
            said += (
                f"; its training expressions used {len(p.training_words):,} distinct words, "
                "and others come with a warning"
            )
        parts.append(said + ".")
    return " ".join(parts)


def training_summary(info: dict[str, Any], variant: str) -> str:
    """A checkpoint's training in a few words, for the variant comparison: the variants of one
    folder may have had very different budgets (a grown model has its source's steps too)."""
    train, step = info.get("train") or {}, info.get("step")
    if not (info.get("data") and step):
        return "untrained"
    batch = train.get("batch_size")
    text = f"{step:,} steps" + (f" × {batch}" if batch else "")
    _, earlier, grown_from = lineage(info.get("init"), variant)
    if earlier:
        text += f" after {earlier:,} earlier" + (
            f" (grown from {grown_from})" if grown_from else ""
        )
    took = training_time_summary(info.get("training_time"))
    return text + (f" ({took})" if took else "")


def lineage_note(init: dict[str, Any], variant: str) -> str:
    """One sentence on a warm-started checkpoint's earlier training (``tvnet train --init``
    records each source in the next run, nested): how many steps in how many runs, and the
    variant it was grown from, if another."""
    runs, steps, grown_from = lineage(init, variant)
    grown = f", grown from a `{grown_from}` network" if grown_from else ""
    plural = "s" if runs > 1 else ""
    return (
        f"**Warm-started** from {runs} earlier run{plural} ({steps:,} steps before this one"
        f"{grown})."
    )


def _rel(path: Any) -> str:
    if not path:
        return "?"
    try:
        return str(Path(path).resolve().relative_to(REPO))
    except ValueError:
        return str(path)


_MARKDOWN_STARTERS = str.maketrans({c: "\\" + c for c in "\\`*_[]|~#"})


def escape_md(text: str) -> str:
    """Text shown verbatim in Markdown: ``<unk>`` would otherwise vanish as an HTML tag, and a
    typed ``*x*``, `` `x` `` or ``[t](url)`` / ``![](url)`` would render as emphasis, code,
    a link or a fetched image (the characters that start one are escaped; a "(" alone, or a
    "!", starts nothing)."""
    text = str(text).translate(_MARKDOWN_STARTERS)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def confidence_text(pred: Any) -> str:
    """The calibrated confidence in words (``Prediction.confidence``, docs/design.md §7)."""
    if pred.confidence is None:
        return "confidence unknown (this checkpoint has no calibration)"
    if pred.warnings:  # calibrated on SynthRef-like input, which the warnings say this is not
        said = "the warning above says" if len(pred.warnings) == 1 else "the warnings above say"
        return (
            f"calibrated confidence {100 * pred.confidence:.0f} %, which {said} may not "
            "hold for this input"
        )
    return (
        f"confidence {100 * pred.confidence:.0f} % (the estimated chance that this mask is "
        f"right: IoU ≥ {CORRECT_IOU:g} with the object)"
    )


def verdict_cell(pred: Any) -> str:
    """The verdict in a few words, for the variant comparison's confidence column: ✔ as in
    :func:`status_md`, else why not (its warnings, no calibration, or too low a confidence)."""
    if pred.confident:
        return "✔"
    if pred.warnings:
        n = len(pred.warnings)
        return f"⚠ {n} warning{'s' if n > 1 else ''}"
    return "⚠ no calibration" if pred.confidence is None else "⚠ not confident"


def status_md(pred: Any, forced: bool, kept: str | None = None) -> str:
    """The verdict on one answer: a ✔ only when ``pred.confident`` (no warnings, a high
    calibrated confidence); otherwise the warnings first, then the facts."""
    area = 100 * float(pred.mask.mean())
    facts = (
        f"**Mask: {area:.1f} % of the image** · variant `{pred.variant}`"
        + (" · mirror averaged" if pred.mirror else "")
        + (" · neighbour chosen by you" if forced else "")
        + f" · {confidence_text(pred)}"
    )
    if pred.confident:
        lines = [f"✔ {facts}"]
    else:
        reasons = [escape_md(w) for w in pred.warnings]
        if not reasons:
            reasons = [
                "The model's confidence cannot be estimated for this checkpoint, so this answer "
                "is not vouched for."
                if pred.confidence is None
                else "The model is not confident enough in this mask to vouch for it."
            ]
        lines = ['<div class="verdict">⚠ <b>Check this answer:</b></div>', ""]
        lines += [f"- {w}" for w in reasons]
        lines += ["", facts]
    details = []
    if kept:
        details.append(kept)
    details += [escape_md(n) for n in pred.notes]
    if details:
        lines += [""] + [f"- {d}" for d in details]
    return "\n".join(lines)


def stale_md(status: str, what: str) -> str:
    """The last status, marked as belonging to an input that has since changed."""
    return (
        f'<div class="stale-flag">⟳ <b>Stale:</b> the {what} changed since this result. '
        "Press <b>Segment</b> to update it; what is shown below is for the previous input."
        f"</div>\n\n{status}"
    )


def status_error(message: str) -> str:
    return f"⚠ **Could not segment:** {escape_md(message)}"


def latency_md(timings: dict[str, float], extra: dict[str, float]) -> str:
    """The predictor's stages, then the demo's own (reading the upload, drawing the maps)."""
    names = {
        "neighbour_load": "neighbour load",
        "read": "read upload",
        "render": "draw maps",
        "influence": "neighbour influence",
        "gate_closed": "closed-gate decode",
        "mirror": "mirror pass",
    }
    stages = {**{k: v for k, v in timings.items() if k != "total"}, **extra}
    total = timings.get("total", 0.0) + sum(extra.values())
    parts = [f"{names.get(k, k)} {v:.0f} ms" for k, v in stages.items()]
    return f"**Latency:** {' · '.join(parts)} · **total {total:.0f} ms**"


def _finite(v: Any) -> bool:
    return v is not None and math.isfinite(float(v))


def _score(v: Any) -> str:
    return f"{float(v):.3f}" if _finite(v) else "not scored"


def neighbour_md(pred: Any, forced: bool, candidates: pd.DataFrame | None) -> str:
    nb = pred.neighbour
    if nb is None:
        return "*This variant reads no retrieved image (RES off).*"
    ts, is_ = nb.text_score, nb.image_score
    unscored = not (_finite(ts) and _finite(is_))  # chosen again, not retrieved: no scores
    if (forced or unscored) and candidates is not None:  # then they come from the table
        row = candidates[candidates["index"] == nb.index]
        if len(row):
            ts, is_ = float(row["text_score"].iloc[0]), float(row["image_score"].iloc[0])
    how = "chosen by you" if forced else "retrieved"
    return (
        f"**Neighbour ({how}):** “{escape_md(nb.sentence)}”  \n"
        f"text similarity **{_score(ts)}** · image similarity **{_score(is_)}** · "
        f"pool entry {nb.index} (image {nb.image_id})"
    )


TABLE_COLUMNS = ["pick", "rank", "text rank", "expression", "text sim.", "image sim.", "pool #"]
CHANGE_COLUMN = "mask change"  # with candidate influence: the share of the mask it would change
EMPTY_TABLE = pd.DataFrame(columns=TABLE_COLUMNS)


def candidates_table(r: Result) -> pd.DataFrame:
    """The retrieval's candidates, best first, the retrieved (★) and the shown (▶) marked."""
    c = r.candidates
    if c is None or c.empty or r.pred.neighbour is None:
        return EMPTY_TABLE
    shown, ours = r.pred.neighbour.index, r.retrieval_pick

    def pick(i: int) -> str:
        tags = (["★ retrieved"] if i == ours else []) + (
            ["▶ shown"] if i == shown and i != ours else []
        )
        return " ".join(tags)

    table = {
        "pick": [pick(int(i)) for i in c["index"]],
        "rank": c["rank"].astype(int),
        "text rank": c["text_rank"].astype(int),
        "expression": c["sentence"].astype(str),
        "text sim.": c["text_score"].astype(float).round(3),
        "image sim.": c["image_score"].astype(float).round(3),
    }
    if r.candidate_changed:  # what each would change, once asked for (a button)
        changed = r.candidate_changed
        table[CHANGE_COLUMN] = [
            share(changed[int(i)]) if int(i) in changed else "" for i in c["index"]
        ]
    table["pool #"] = c["index"].astype(int)  # last: a clicked row's entry (events.py)
    return pd.DataFrame(table)


def candidate_choices(r: Result) -> list[tuple[str, int]]:
    c = r.candidates
    if c is None:
        return []
    return [
        (
            f"#{int(row['rank'])} “{row['sentence']}” — text {row['text_score']:.2f}, "
            f"image {row['image_score']:.2f}"
            + (" ★ retrieved" if int(row["index"]) == r.retrieval_pick else ""),
            int(row["index"]),
        )
        for _, row in c.iterrows()
    ]


def subscript(level: int) -> str:
    return str(level).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))
