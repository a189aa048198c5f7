"""The paper's tables from dump rows (their export as Markdown, LaTeX and CSV:
:mod:`analysis.export`).

Tables hold percentages (the paper's unit) as floats; formatting to a fixed number of digits
happens only at export. oIoU (ΣI/ΣU) and mIoU (mean per-sample IoU) are always labelled as
such, side by side.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from analysis.naming import distinct_labels, row_keys, run_names
from tvnet.config import VARIANTS
from tvnet.eval.metrics import PREC_KEYS, SIZE_BINS, aggregate

# canonical row order of Table 1 (tvnet.config.VARIANTS); other variants follow alphabetically
VARIANT_ORDER = tuple(VARIANTS)
PREC_LABELS = tuple(k.replace("prec", "Prec") for k in PREC_KEYS)  # "Prec@0.5", …
METRIC_LABELS = {
    **dict(zip(PREC_KEYS, PREC_LABELS)),
    "overall_iou": "oIoU",
    "mean_iou": "mIoU",
}
TABLE1_METRICS = (*PREC_KEYS, "overall_iou", "mean_iou")
NEEDED_COLUMNS = ("inter", "union", "iou", "size_bin", "variant", "split")

__all__ = [
    "VARIANT_ORDER",
    "concat_samples",
    "metrics_table",
    "table1",
    "table3",
    "runs_table",
    "repeated_variants",
    "base_variants",
    "model_variant",
    "size_table",
    "expression_types",
    "records_types",
    "type_table",
    "size_distribution",
]


def concat_samples(dumps: Iterable[Any], columns: Sequence[str] | None = None) -> pd.DataFrame:
    """The rows of several dumps in one frame, with ``dataset`` (run.json's dataset name),
    ``run`` (the dump's label) and ``base_variant`` (the name its rows pool under as seeds:
    the dump's ``Dump.name``, i.e. the variant it records and how its weights started unless
    from scratch, with its budget where :func:`analysis.naming.row_keys` adds it; a run
    scored twice on one split pools alone under its row name, :func:`analysis.naming.run_names`)
    added.

    A warm-started run is another recipe, not another seed: its ``variant`` and
    ``base_variant`` carry how it started, e.g. ``"full (grown from baseline)"`` (see
    ``Dump.name``), so :func:`runs_table` never averages it with runs trained from scratch.
    Runs of one name trained for different budgets are different recipes too: when a
    dataset has more than one budget for a name, each such run's name gets its budget, e.g.
    ``"full (160k samples)"`` (over all splits of the dataset, so that a run keeps one name),
    and so does every other name of that dataset whose budget is recorded, e.g. ``"full
    (mirror averaged, 240k samples)"``, so that no row there leaves its budget unsaid. Runs
    of one name and budget on one dataset (seeds, say) would merge into one table row; their
    ``variant`` becomes ``"variant [tag]"``, a tag a run's val and test dumps share
    (:func:`analysis.naming.row_names`), so they stay apart (and :func:`runs_table` pools
    them as seeds). Dumps of one label (``res-val`` under two folders given to the report)
    are first told apart by their paths (:func:`analysis.naming.distinct_labels`). A dump
    that repeats another's evaluation would pool as a seed of it: leave such repeats out
    first (:func:`analysis.naming.unique_dumps`, as the report and the dashboard do).
    """
    dumps = distinct_labels(dumps)
    keys = row_keys(dumps)
    frames = []
    names, pooled = run_names(dumps, keys)
    for d, key, variant, base in zip(dumps, keys, names, pooled):
        df = d.samples if columns is None else d.samples[[c for c in columns if c in d.samples]]
        # every row under its run's names: rows may leave split and variant unrecorded ("" or
        # null, as load_dump allows), and would group apart from their run's, or not at all
        extra = {"dataset": key[0], "run": d.label, "base_variant": base, "variant": variant}
        if d.split:
            extra["split"] = d.split
        frames.append(df.assign(**extra))
    if not frames:
        return pd.DataFrame(
            columns=[*(columns or NEEDED_COLUMNS), "dataset", "run", "base_variant"]
        )
    return pd.concat(frames, ignore_index=True)


def model_variant(name: Any) -> str:
    """The Table 1 variant of a row name: ``"full"`` for ``"full"``, ``"full [label]"`` and
    ``"full (grown from baseline)"``."""
    return str(name).split(" [")[0].split(" (")[0]


def variant_key(v: Any) -> tuple:
    """Table 1's order, then the name with its numbers compared as numbers ("full (72k
    samples)" before "full (160k samples)")."""
    v = str(v)
    base = model_variant(v)
    rank = VARIANT_ORDER.index(base) if base in VARIANT_ORDER else len(VARIANT_ORDER)
    digits = re.sub(r"(?<=\d),(?=\d{3})", "", v)  # "step 1,500" is 1500, not 1
    natural = tuple(int(t) if i % 2 else t for i, t in enumerate(re.split(r"(\d+)", digits)))
    return (rank, base if rank == len(VARIANT_ORDER) else "", natural, v)


def _sort_index(df: pd.DataFrame, levels: Sequence[str]) -> pd.DataFrame:
    """Rows in a stable, readable order: Table 1's variant order, then size buckets."""
    if df.empty:
        return df

    def sort_key(idx: Any) -> tuple:
        idx = idx if isinstance(idx, tuple) else (idx,)
        return tuple(
            variant_key(v)
            if lvl == "variant"
            else _size_key(v)
            if lvl == "size_bin"
            else (0, str(v))
            for lvl, v in zip(levels, idx)
        )

    return df.loc[sorted(df.index, key=sort_key)]


def _as_tuple(v: Any) -> tuple:
    return v if isinstance(v, tuple) else (v,)


def _size_key(v: Any) -> tuple[int, str]:
    order = ("all", *SIZE_BINS)
    return (order.index(v), v) if v in order else (len(order), str(v))


def metrics_table(samples: pd.DataFrame, by: Sequence[str] = ("variant",)) -> pd.DataFrame:
    """Every metric of :func:`tvnet.eval.metrics.aggregate` (fractions; per size bin too) per group.

    One row per combination of the ``by`` columns, columns like ``overall_iou``,
    ``small/prec@0.5``, ``n``.
    """
    by = list(by)
    if samples.empty:
        index = (
            pd.MultiIndex.from_arrays([[]] * len(by), names=by)
            if len(by) > 1
            else pd.Index([], name=by[0])
        )
        return pd.DataFrame(index=index)
    rows = {}
    for key, group in samples.groupby(by, sort=False, observed=True, dropna=False):
        # pandas gives 1-tuples when grouping by a list of one column
        rows[key if len(by) > 1 else key[0]] = aggregate(group)
    out = pd.DataFrame.from_dict(rows, orient="index")
    if len(by) > 1:
        out.index = pd.MultiIndex.from_tuples(out.index, names=by)
    else:
        out.index.name = by[0]
    return _sort_index(out, by)


def table1(
    samples: pd.DataFrame,
    by: Sequence[str] = ("variant",),
    subsets: Sequence[str] = ("All", "Small"),
) -> pd.DataFrame:
    """Table 1 layout: one row per variant; columns (subset, metric) for the subsets All and
    Small × Prec@0.5 … Prec@0.9, oIoU, mIoU — in percent.

    Pass the rows of one dataset and split (or add ``"split"`` to ``by``).
    """
    m = metrics_table(samples, by)
    cols = {}
    for subset in subsets:
        prefix = "" if subset.lower() == "all" else f"{subset.lower()}/"
        if prefix and prefix[:-1] not in SIZE_BINS:
            raise ValueError(f"unknown subset {subset!r}; use 'All' or one of {SIZE_BINS}")
        for key in TABLE1_METRICS:
            col = prefix + key
            cols[(subset, METRIC_LABELS[key])] = (
                m[col] * 100.0 if col in m else pd.Series(dtype=float)
            )
    out = pd.DataFrame(cols, index=m.index)
    out.columns = pd.MultiIndex.from_tuples(out.columns, names=["subset", "metric"])
    return out


RUN_STATS = ("mean", "sd", "min", "max")


def base_variants(samples: pd.DataFrame) -> pd.Series:
    """Each row's run name without the label :func:`concat_samples` gives a repeated one:
    ``"full"`` for ``"full [label]"``, ``"full (grown from baseline)"`` for
    ``"full (grown from baseline) [label]"`` — the unit over which seeds are pooled."""
    if "base_variant" in samples:
        return samples["base_variant"].astype(str)
    return samples["variant"].astype(str)


def repeated_variants(samples: pd.DataFrame) -> list[str]:
    """The variants of ``samples`` (one dataset and split) that more than one run evaluated."""
    runs = samples.groupby(base_variants(samples))["run"].nunique()
    return sorted(runs[runs > 1].index, key=variant_key)


def runs_table(samples: pd.DataFrame, subsets: Sequence[str] = ("All", "Small")) -> pd.DataFrame:
    """Table 1 over repeated runs (seeds): for each variant, the mean, sample sd, min and max
    over its runs of every Table 1 metric, in percent; column ``runs`` counts them (sd is NaN
    for a single run). Each run's metrics come from its own rows, as in its own Table 1.

    Pass the rows of one dataset and split from :func:`concat_samples` (``run`` names a dump):
    rows of several raise ValueError, since a val and a test dump of one model would count as
    two of its runs.
    """
    mixed = [c for c in ("dataset", "split") if c in samples and samples[c].nunique() > 1]
    if mixed:
        raise ValueError(
            f"runs_table takes the rows of one dataset and split; these hold several "
            f"({', '.join(f'{c}: {sorted(map(str, samples[c].unique()))}' for c in mixed)}): "
            "group them first, e.g. samples.groupby(['dataset', 'split'])"
        )
    rows = samples.assign(variant=base_variants(samples))
    per_run = table1(rows, by=("variant", "run"), subsets=subsets)
    if per_run.empty:
        return pd.DataFrame()
    parts = []
    for variant in sorted(per_run.index.unique("variant"), key=variant_key):
        runs = per_run.xs(variant, level="variant")
        stats = pd.DataFrame(
            [runs.mean(), runs.std(ddof=1), runs.min(), runs.max()], index=list(RUN_STATS)
        )
        stats.insert(0, ("", "runs"), len(runs))  # header "runs" (empty levels are dropped)
        stats.index = pd.MultiIndex.from_product(
            [[variant], RUN_STATS], names=["variant", "statistic"]
        )
        parts.append(stats)
    out = pd.concat(parts)
    out.columns = pd.MultiIndex.from_tuples(out.columns, names=["subset", "metric"])
    return out


TRAINING_COLUMNS = (
    "training samples",
    "wall (min)",
    "suspended (min)",
    "samples/s",
    "processor",
    "precision",
)


def training_table(dumps: Iterable[Any], samples: pd.DataFrame | None = None) -> pd.DataFrame:
    """How each evaluated checkpoint trained, one row per dataset, row name and checkpoint (a
    val and a test dump of one checkpoint make one row): its training samples (over its
    warm-start chain) and, where the checkpoint recorded them (``training_time``, read by
    :func:`tvnet.record.totals`), the wall time in minutes, the part of it the run was
    suspended (a lower bound; NaN in records older than that count), samples/s of the rest,
    processor and precision (all runs' when they differ). Row names are Table 1's when ``samples`` (the rows
    of :func:`concat_samples`) are given, which also keeps only their runs. Empty when no dump
    records a budget or a time."""
    from tvnet.record import totals

    names = samples.groupby("run", sort=False)["variant"].first() if samples is not None else None
    rows: dict[tuple[str, str, str], dict[str, Any]] = {}
    recorded = False
    for d in dumps:
        if names is not None and d.label not in names.index:
            continue
        name = str(names[d.label]) if names is not None else d.name
        ckpt = d.checkpoint_hash or d.label
        key = (d.dataset_name, name, ckpt)
        if key in rows:
            continue
        t = totals(d.run.get("training_time"))
        recorded = recorded or bool(d.budget) or t is not None
        rows[key] = {
            "training samples": f"{d.budget:,}" if d.budget else "–",
            "wall (min)": t["wall_s"] / 60 if t else float("nan"),
            "suspended (min)": t["stalled_s"] / 60
            if t and t["stalled_s"] is not None
            else math.nan,
            "samples/s": float(t["samples_per_s"]) if t and t["samples_per_s"] else float("nan"),
            "processor": t["processor"] if t else "–",
            "precision": t["precision"] if t else "–",
        }
    if not recorded:
        return pd.DataFrame(columns=list(TRAINING_COLUMNS))
    out = pd.DataFrame(list(rows.values()), columns=list(TRAINING_COLUMNS))
    out.index = pd.MultiIndex.from_tuples([k[:2] for k in rows], names=["dataset", "variant"])
    order = sorted(range(len(out)), key=lambda i: (out.index[i][0], variant_key(out.index[i][1])))
    return out.iloc[order]  # positions: two checkpoints of one name keep a row each


def table3(
    samples: pd.DataFrame, row: str = "variant", columns: Sequence[str] = ("dataset", "split")
) -> pd.DataFrame:
    """Table 3 layout: oIoU (%) on small referents, one row per run (``row``), one column per
    dataset and split. Empty cells (no small referent there) are NaN."""
    m = metrics_table(samples, [row, *columns])
    if m.empty:
        return pd.DataFrame()
    values = (m["small/overall_iou"] * 100.0).unstack(list(columns))
    values = values.reindex(
        sorted(values.columns, key=lambda c: tuple(map(str, _as_tuple(c)))), axis=1
    )
    return _sort_index(values, [row])


def size_table(samples: pd.DataFrame, by: Sequence[str] = ("variant",)) -> pd.DataFrame:
    """Per-size-bucket breakdown: rows (``by``…, bucket) for buckets all/small/medium/big;
    columns n, share (%) of the group's samples, Prec@0.5 … Prec@0.9, oIoU, mIoU (%)."""
    m = metrics_table(samples, by)
    records = []
    for key, r in m.iterrows():
        key = key if isinstance(key, tuple) else (key,)
        total = r["n"]
        for bucket in ("all", *SIZE_BINS):
            prefix = "" if bucket == "all" else f"{bucket}/"
            n = int(r[f"{prefix}n"])
            rec = dict(zip(by, key))
            rec.update(
                size_bin=bucket, n=n, **{"share (%)": 100.0 * n / total if total else math.nan}
            )
            for k in TABLE1_METRICS:
                rec[METRIC_LABELS[k]] = float(r[prefix + k]) * 100.0
            records.append(rec)
    cols = [*by, "size_bin", "n", "share (%)", *(METRIC_LABELS[k] for k in TABLE1_METRICS)]
    out = pd.DataFrame.from_records(records, columns=cols).set_index([*by, "size_bin"])
    return out


def expression_types(refer: Any) -> dict[int, str]:
    """sent_id → the expression type its refs file records per sentence.

    SynthRef writes ``type`` (attribute / relation / ordinal / absolute) on every sentence;
    RefCOCO's files have none, and then the mapping is empty. ``refer`` is a
    :class:`tvnet.data.refer.ReferDataset`.
    """
    types: dict[int, str] = {}
    for split in refer.splits():
        for ref_id in {s.ref_id for s in refer.samples(split)}:
            for sent in refer.ref(ref_id).get("sentences", []):
                if "type" in sent:
                    types[int(sent["sent_id"])] = str(sent["type"])
    return types


def records_types(samples: pd.DataFrame) -> bool:
    """Whether any row of ``samples`` records its sentence's expression type."""
    return "expression_type" in samples.columns and bool(samples["expression_type"].notna().any())


def type_table(
    samples: pd.DataFrame, types: dict[int, str] | None = None, by: Sequence[str] = ("variant",)
) -> pd.DataFrame:
    """Metrics per expression type: rows (``by``…, type), columns n, Prec@0.5 … Prec@0.9,
    oIoU, mIoU (%). The type is the one the dump's row records (column ``expression_type``);
    a row of an older dump that lacks it takes the one ``types`` gives (sent_id → type, e.g.
    :func:`expression_types` of the data it was scored on), else the one another dump records
    for the same sentence (pass one dataset's rows). Samples whose sentence has no known type
    count as ``"?"``."""
    kind = pd.Series(None, index=samples.index, dtype=object)
    if "expression_type" in samples.columns:
        kind = samples["expression_type"].astype(object)
    if types is not None:
        kind = kind.fillna(samples["sent_id"].map(lambda i: types.get(int(i))))
    if "expression_type" in samples.columns:
        recorded = samples.dropna(subset=["expression_type"]).drop_duplicates("sent_id")
        by_sentence = recorded.set_index("sent_id")["expression_type"]
        kind = kind.fillna(samples["sent_id"].map(by_sentence))
    kind = kind.fillna("?").astype(str)
    typed = samples.assign(expression_type=kind)
    m = metrics_table(typed, [*by, "expression_type"])
    out = pd.DataFrame({"n": m["n"].astype(int)}, index=m.index)
    for k in TABLE1_METRICS:
        out[METRIC_LABELS[k]] = m[k] * 100.0
    return out


def size_distribution(samples: pd.DataFrame, by: Sequence[str] = ("split",)) -> pd.DataFrame:
    """Figure 7's numbers: per group, the count and share (%) of small / medium / big referents.

    Each expression counts once per dump; with several variants on one split, pass the rows
    of one variant (the distribution is a property of the data, not of the model).
    """
    by = list(by)
    counts = (
        samples.groupby([*by, "size_bin"], observed=True).size().unstack("size_bin", fill_value=0)
        if not samples.empty
        else pd.DataFrame(columns=list(SIZE_BINS))
    )
    counts = counts.reindex(columns=list(SIZE_BINS), fill_value=0).astype(int)
    total = counts.sum(axis=1)
    share = counts.div(total.where(total > 0), axis=0) * 100.0
    return pd.concat({"n": counts.assign(total=total), "share (%)": share}, axis=1)
