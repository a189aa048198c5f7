"""Paper tables and figures from evaluation dumps.

    python -m analysis.report assets/dumps --out report/
    python -m analysis.report runs/eval/full_val runs/eval/baseline_val --out report/ --split val

Writes into ``--out`` (every file atomically):

- ``tables.md`` and ``tables.tex`` — Table 1 per dataset and split (variants × {All, Small} ×
  Prec@0.5…0.9, oIoU, mIoU), Table 1 over runs (mean, sample sd, min, max; where one variant has
  several dumps of a split, e.g. seeds), Table 3 (oIoU on small referents per dataset and
  split), the
  per-size-bucket breakdown, Figure 7's numbers and, with ``--data`` (a dataset whose refs
  file records each sentence's type, as SynthRef's does), metrics per expression type, and
  with ``--data DIR --failures``, where the misses go (:mod:`analysis.failures`) and, on
  SynthRef, which words the models use (:mod:`analysis.cues`); where the dumps record them,
  the calibration of each variant's confidence (:mod:`analysis.calibration`) and what its
  answers owe to the neighbour (:mod:`analysis.influence`);
- one CSV per table, full precision;
- ``fig7_size_distribution.png``, ``iou_histogram_<dataset>_<split>.png`` and
  ``prec_curves_<dataset>_<split>.png``.

Every number is recomputed from the dumps' rows; the metrics stored in ``run.json`` are not read.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from analysis import calibration, cues, export, failures, figures, influence, naming, tables
from tvnet.eval.dump import Dump, load_dump, load_dumps, tag_datasets
from tvnet.eval.metrics import INFLUENCE_FIELDS, SMALL_RULE
from tvnet.io import atomic_path, atomic_write_text

METRIC_NOTE = (
    "oIoU = overall IoU = ΣI / ΣU over the split (a.k.a. cIoU); "
    "mIoU = mean of the per-sample IoU (a.k.a. gIoU). Prec@X = share of samples with IoU ≥ X. "
    f"Small = referents {SMALL_RULE} of the image area. All values in %."
)
ANALYSIS_COLUMNS = [
    "sample_id",
    "sent_id",
    "inter",
    "union",
    "iou",
    "size_bin",
    "variant",
    "split",
    "expression_type",
]
# how far answers can be trusted, and what they owe to the neighbour
TRUST_COLUMNS = ["score", "confidence", *INFLUENCE_FIELDS]


def _slug(*parts: str) -> str:
    """A file name's stem from ``parts``: ``"table1_refcoco_plus_val"`` for (table1, refcoco+,
    val), so that RefCOCO+'s files are not RefCOCO's."""
    text = "_".join(parts).replace("+", "_plus_")
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_") or "all"


def _save_png(fig, path: Path, dpi: int) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi)


def select(samples: pd.DataFrame, splits=None, variants=None) -> pd.DataFrame:
    if splits:
        samples = samples[samples["split"].isin(splits)]
    if variants:  # "full" keeps every run of full: "full [label]", "full (grown from …)" too,
        # and a name runs pool under ("full (160k samples)", Table 1 over runs) all of them
        keep = samples["variant"].isin(variants) | samples["variant"].map(
            tables.model_variant
        ).isin(variants)
        if "base_variant" in samples:
            keep |= samples["base_variant"].isin(variants)
        samples = samples[keep]
    return samples


def one_per_expression(samples: pd.DataFrame) -> pd.DataFrame:
    """One row per (dataset, split, sample): the size distribution belongs to the data, so
    several variants evaluated on one split must not count an expression several times."""
    return samples.drop_duplicates(["dataset", "split", "sample_id"])


def build_report(
    dumps: Sequence[Dump],
    out: str | Path,
    splits: Sequence[str] | None = None,
    variants: Sequence[str] | None = None,
    digits: int = 2,
    dpi: int = 150,
    errors: Sequence[tuple[Path, str]] = (),
    types: tuple[str, dict[int, str]] | tuple[str, dict[int, str], str] | None = None,
    failures_of: Any | None = None,
) -> list[Path]:
    """Write the report for ``dumps`` into ``out``; returns the files written.

    A per-expression-type table is added for each split whose dumps record the type (column
    ``expression_type``, written for SynthRef); ``types`` = (dataset name, sent_id → type,
    :func:`analysis.tables.expression_types`, and optionally the data's fingerprint,
    ``ReferDataset.fingerprint()``) supplies it for that dataset's older dumps: those of its
    name whose recorded fingerprint, where they record one, is that data's.
    ``failures_of`` (a :class:`tvnet.data.refer.ReferDataset`) adds a failure-mode table
    (:mod:`analysis.failures`) per split for the dumps evaluated on that dataset."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    everything = tables.concat_samples(dumps, ANALYSIS_COLUMNS)
    samples = select(everything, splits, variants)
    if samples.empty and not everything.empty:  # a typo in --split or --variants: say so
        raise ValueError(  # before anything is written over a report that had rows
            f"no rows match --split {' '.join(splits or []) or '(any)'} --variants "
            f"{' '.join(variants or []) or '(any)'}; the dumps hold splits "
            f"{sorted(set(everything['split']))} and variants "
            f"{sorted(set(everything['variant']))}"
        )
    written: list[Path] = []
    md = ["# TV-Net evaluation report", "", METRIC_NOTE, ""]
    tex = [f"% TV-Net evaluation report. {METRIC_NOTE}", ""]
    if errors:
        md += ["**Dumps left out:**", ""]
        md += [f"- {msg}" for _, msg in errors] + [""]
    if samples.empty:
        md += ["No samples in the selected dumps.", ""]

    stems: set[str] = set()

    def claim(stem: str, ext: str) -> str:
        """``stem``, numbered when another ``ext`` file of this report has it already (two
        datasets whose names differ only in punctuation): no file replaces another."""
        n, free = 1, stem
        while free + ext in stems:
            n += 1
            free = f"{stem}_{n}"
        stems.add(free + ext)
        return free

    def add_table(df: pd.DataFrame, title: str, stem: str) -> None:
        stem = claim(stem, ".csv")
        md.extend([f"## {title}", "", export.to_markdown(df, digits)])
        tex.append(export.to_latex(df, digits, caption=title, label=f"tab:{stem}"))
        path = out / f"{stem}.csv"
        atomic_write_text(path, export.to_csv(df))
        written.append(path)

    for (dataset, split), group in samples.groupby(["dataset", "split"], sort=True):
        add_table(
            tables.table1(group), f"Table 1 — {dataset} / {split}", _slug("table1", dataset, split)
        )
        if tables.repeated_variants(group):
            add_table(
                tables.runs_table(group),
                f"Table 1 over runs — {dataset} / {split} (mean, sample sd, min, max over each "
                "variant's runs)",
                _slug("table1_runs", dataset, split),
            )
    trained = tables.training_table(dumps, samples)
    if not trained.empty:
        add_table(
            trained,
            "Training — samples seen by each evaluated checkpoint and, where it recorded them, "
            "its wall time, the part of it suspended (a lower bound, recorded since 2026-12-06), "
            "samples/s of the rest, processor and precision",
            "training",
        )
    if not samples.empty:
        add_table(
            tables.table3(samples),
            "Table 3 — oIoU (%) on small referents per dataset and split",
            "table3",
        )
    for (dataset, split), group in samples.groupby(["dataset", "split"], sort=True):
        add_table(
            tables.size_table(group),
            f"Per-size-bucket metrics — {dataset} / {split}",
            _slug("sizes", dataset, split),
        )
    typed = set()  # the (tagged) dataset names of the dumps scored on the types' data
    if types is not None and types[1]:
        fp = types[2] if len(types) > 2 else ""
        typed = {d.dataset_name for d in dumps if failures.same_data(d, types[0], fp)}
    for (dataset, split), group in samples.groupby(["dataset", "split"], sort=True):
        given = types[1] if dataset in typed else None
        if given is not None or tables.records_types(group):
            add_table(
                tables.type_table(group, given),
                f"Per-expression-type metrics — {dataset} / {split}",
                _slug("types", dataset, split),
            )
    trust = select(
        tables.concat_samples(dumps, [*ANALYSIS_COLUMNS, *TRUST_COLUMNS]), splits, variants
    )
    if "confidence" in trust and trust["confidence"].notna().any():
        summary = calibration.calibration_summary(trust)
        pct = ["accuracy", "mean_confidence", "ece", "ece_score"]
        summary[pct] = 100 * summary[pct]
        add_table(  # the columns as the dashboard names them
            summary.set_index(["variant", "split"]).rename(columns=calibration.SUMMARY_NAMES),
            "Calibration — answers right (IoU ≥ 0.5), mean confidence and ECE after / before "
            "calibration (before: the raw score as a probability), in %; n and Brier score as "
            "they are. `tvnet calibrate` fits on val: val's ECE is in-sample, test's is the check",
            "calibration",
        )
    if "nogate_iou" in trust and trust["nogate_iou"].notna().any():
        table = influence.retrieving(influence.influence_table(trust))
        add_table(
            table.drop(columns="has_influence")
            .set_index(["variant", "split"])
            .rename(columns=influence.INFLUENCE_NAMES),
            "Neighbour influence, in % (n as it is) — oIoU of the answers, with the gate closed "
            "and with a random neighbour; gain from the neighbour (oIoU − gate closed) and over "
            "a random one; the mean IoU of those masks with the answer; the share of answers "
            "the closed gate changes (IoU < 0.99)",
            "influence",
        )
    if failures_of is not None:
        by_split: dict[str, list[Dump]] = {}
        named: dict[str, list[str]] = {}  # the row names of Table 1, worked out over all dumps
        fingerprint = failures_of.fingerprint()
        for d, name, pooled in zip(dumps, *naming.run_names(dumps)):
            if not failures.scored_on(d, failures_of, fingerprint):  # another seed's data too
                continue
            if (splits and d.split not in splits) or (  # the rows select() keeps
                variants and not {name, tables.model_variant(name), pooled} & set(variants)
            ):
                continue
            by_split.setdefault(d.split, []).append(load_dump(d.path, columns=failures.COLUMNS))
            named.setdefault(d.split, []).append(name)
        for split, group in sorted(by_split.items()):
            names = named[split]
            try:
                table = failures.failure_table(group, failures_of, names=names)
            except ValueError:  # a dump whose rows are not this data's (masks at the input
                # resolution, another version of it): left out of these tables, said, and the
                # others go on
                group, names, refused = _classifiable(group, names, failures_of)
                md += [f"**Left out of the failure modes — {failures_of.name} / {split}:**", ""]
                md += [f"- {path}: {msg}" for path, msg in refused] + [""]
                if not group:
                    continue
                table = failures.failure_table(group, failures_of, names=names)
            add_table(
                table,
                f"Failure modes (% of samples) — {failures_of.name} / {split}",
                _slug("failures", failures_of.name, split),
            )
            try:
                words = cues.cue_table(group, failures_of, names=names)
            except ValueError as e:  # no attributes or sentence types (RefCOCO): no such
                words = None  # table; another reason is said, and the report goes on
                if "record no" not in str(e) and "records no" not in str(e):
                    md += [f"*No word-use table for {failures_of.name} / {split}: {e}*", ""]
            if words is not None and not words.empty:
                add_table(
                    words,
                    f"Word use on attribute expressions (objects lit, %) — "
                    f"{failures_of.name} / {split}",
                    _slug("cues", failures_of.name, split),
                )
    if not samples.empty:
        per_expr = one_per_expression(samples)
        multi = per_expr["dataset"].nunique() > 1
        per_expr = per_expr.assign(
            split=per_expr["dataset"] + "/" + per_expr["split"] if multi else per_expr["split"]
        )
        add_table(
            tables.size_distribution(per_expr),
            "Figure 7 — object size distribution per split",
            "fig7_size_distribution",
        )
        fig_path = out / "fig7_size_distribution.png"
        _save_png(figures.size_distribution_figure(per_expr), fig_path, dpi)
        written.append(fig_path)
        for (dataset, split), group in samples.groupby(["dataset", "split"], sort=True):
            for name, make in (
                ("iou_histogram", figures.iou_histogram_figure),
                ("prec_curves", figures.prec_curve_figure),
            ):
                fig = make(group)
                fig.suptitle(f"{dataset} / {split}", fontsize=9)
                path = out / f"{claim(_slug(name, dataset, split), '.png')}.png"
                _save_png(fig, path, dpi)
                written.append(path)

    for name, text in (("tables.md", "\n".join(md)), ("tables.tex", "\n".join(tex))):
        atomic_write_text(out / name, text)
        written.append(out / name)
    return written


def _classifiable(
    group: list[Dump], names: list[str], refer: Any
) -> tuple[list[Dump], list[str], list[tuple[str, str]]]:
    """The dumps of ``group`` (with their row ``names``) whose rows are samples of ``refer``
    at its images' sizes, and (path, why) for the others."""
    kept, kept_names, refused = [], [], []
    for d, name in zip(group, names):
        try:
            failures.failure_table([d], refer, names=[name])
        except ValueError as e:
            refused.append((str(d.path), str(e)))
            continue
        kept.append(d)
        kept_names.append(name)
    return kept, kept_names, refused


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m analysis.report",
        description=(
            "Write the paper's tables (Markdown, LaTeX, CSV) and figures (PNG) from TV-Net "
            "evaluation dumps. Every number is recomputed from the dumps' rows."
        ),
        epilog=(
            "Example: python -m analysis.report assets/dumps --out report/ --split val. "
            "Broken dumps are reported and skipped; the exit status is 1 when none could be read."
        ),
    )
    p.add_argument(
        "dumps",
        nargs="+",
        metavar="DUMPS",
        help="dump folders (samples.parquet + run.json), or folders searched for dumps",
    )
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (created)")
    p.add_argument("--split", nargs="*", metavar="S", help="keep only these splits (default: all)")
    p.add_argument(
        "--variants", nargs="*", metavar="V", help="keep only these variants (default: all)"
    )
    p.add_argument("--digits", type=int, default=2, help="decimals in tables (default: 2)")
    p.add_argument("--dpi", type=int, default=150, help="PNG resolution (default: 150)")
    p.add_argument(
        "--data",
        metavar="DIR",
        help="the dumps' refer-format dataset: supplies the expression types of dumps written "
        "before they recorded them (per-type metrics need its refs file to record types, as "
        "SynthRef's does)",
    )
    p.add_argument(
        "--failures",
        action="store_true",
        help="with --data: add where the misses go per split (python -m analysis.failures; "
        "decodes every predicted mask, so it takes a few seconds per 1000 samples)",
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    dumps: list[Dump] = []
    errors: list[tuple[Path, str]] = []
    for root in args.dumps:
        found, errs = load_dumps(root, columns=[*ANALYSIS_COLUMNS, *TRUST_COLUMNS])
        dumps += found
        errors += errs
    tag_datasets(dumps)  # over every root: two seeds' data in two roots are two datasets
    dumps, repeats = naming.unique_dumps(dumps)  # a copy would pool as another seed
    errors += repeats
    for _, msg in errors:
        print(f"warning: skipped {msg}", file=sys.stderr)
    if not dumps:
        print("error: no readable dump under " + ", ".join(args.dumps), file=sys.stderr)
        return 1
    if args.failures and not args.data:
        print("error: --failures needs --data (the dumps' dataset)", file=sys.stderr)
        return 2
    types = refer = None
    if args.data:
        from tvnet.data.refer import open_refer

        try:
            refer = open_refer(args.data)
        except (OSError, ValueError) as e:
            print(f"error: cannot read the dataset {args.data}: {e}", file=sys.stderr)
            return 1
        types = (refer.name, tables.expression_types(refer), refer.fingerprint())
        if not types[1]:
            print(f"note: {args.data} records no expression types", file=sys.stderr)
        if not any(failures.scored_on(d, refer, types[2]) for d in dumps):
            print(
                f"note: no dump was scored on {args.data} (another dataset, or other data of "
                "its name): its types and failure modes apply to none",
                file=sys.stderr,
            )
    try:
        written = build_report(
            dumps,
            args.out,
            args.split,
            args.variants,
            args.digits,
            args.dpi,
            errors=errors,
            types=types,
            failures_of=refer if args.failures else None,
        )
    except ValueError as e:  # e.g. a dump whose refs are not the dataset's (--failures)
        print(f"error: {e}", file=sys.stderr)
        return 1
    except OSError as e:  # --out names a file, or a folder it may not write
        print(f"error: cannot write the report to {args.out}: {e}", file=sys.stderr)
        return 1
    print(f"{len(dumps)} dump(s) → {len(written)} file(s) in {args.out}")
    for path in written:
        print(f"  {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
