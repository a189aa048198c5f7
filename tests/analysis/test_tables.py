"""analysis/tables.py against the hand-computed numbers of tests/dumps_fixture.py."""

from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
import pytest
from dumps_fixture import EXPECTED

from analysis.export import to_csv, to_latex, to_markdown
from analysis.tables import (
    base_variants,
    concat_samples,
    distinct_labels,
    metrics_table,
    model_variant,
    repeated_variants,
    runs_table,
    size_distribution,
    size_table,
    table1,
    table3,
)

PREC = ["Prec@0.5", "Prec@0.6", "Prec@0.7", "Prec@0.8", "Prec@0.9"]


def test_concat_adds_dataset_and_run(samples):
    assert set(samples["dataset"]) == {"handmade"}
    assert set(samples["run"]) == {"full_val", "baseline_val", "full_test"}
    assert len(samples) == 4 + 4 + 2


def test_table1_layout_and_numbers(samples):
    t = table1(samples[samples["split"] == "val"])
    assert list(t.index) == ["baseline", "full"]  # the paper's row order
    assert list(t.columns.get_level_values(0).unique()) == ["All", "Small"]
    assert list(t.columns.get_level_values(1)[:7]) == [*PREC, "oIoU", "mIoU"]
    for (variant, _split), exp in EXPECTED.items():
        for subset, key in (("All", "all"), ("Small", "small")):
            assert t.loc[variant, (subset, "oIoU")] == pytest.approx(exp[key]["oIoU"])
            assert t.loc[variant, (subset, "mIoU")] == pytest.approx(exp[key]["mIoU"])
            got = [t.loc[variant, (subset, p)] for p in PREC]
            assert got == pytest.approx(exp[key]["prec"])


def test_table1_never_reads_run_json(hand_dumps, samples):
    # the fixture stored a wrong oIoU (12.3 %) in run.json on purpose
    assert hand_dumps[0].run["metrics"]["overall_iou"] == 0.123
    t = table1(samples[samples["split"] == "val"])
    assert t.loc["full", ("All", "oIoU")] == pytest.approx(100 * 17 / 37)


def test_table1_by_split_and_variant(samples):
    t = table1(samples, by=["split", "variant"])
    assert list(t.index) == [("test", "full"), ("val", "baseline"), ("val", "full")]
    # full/test: samples 0 (4/4) and 2 (10/20)
    assert t.loc[("test", "full"), ("All", "oIoU")] == pytest.approx(100 * 14 / 24)
    assert t.loc[("test", "full"), ("Small", "oIoU")] == 100.0


def test_duplicate_runs_stay_apart(hand_dumps):
    import copy

    twin = copy.copy(hand_dumps[-1])
    twin.label = "full_val_again"
    s = concat_samples([*hand_dumps, twin])
    t = table1(s[s["split"] == "val"])
    # one checkpoint twice on one split: told apart by label (unique_dumps would drop one)
    assert sorted(t.index) == ["baseline", "full [full_val]", "full [full_val_again]"]


def test_two_roots_with_a_dump_of_one_name_stay_two_runs(tmp_path):
    """`analysis.report seed0 seed1`, both holding `full-val`: two runs, not one pooled row."""
    from dumps_fixture import write_hand_dump

    from tvnet.eval.dump import load_dumps

    write_hand_dump(tmp_path / "seed0" / "full-val", "full", "val")  # oIoU 17/37
    write_hand_dump(tmp_path / "seed1" / "full-val", "full", "val", preds="baseline")  # 24/34
    dumps = [d for root in ("seed0", "seed1") for d in load_dumps(tmp_path / root)[0]]
    assert [d.label for d in dumps] == ["full-val", "full-val"]
    s = concat_samples(dumps)
    assert [d.label for d in dumps] == [str(tmp_path / r / "full-val") for r in ("seed0", "seed1")]
    assert s["run"].nunique() == 2 and repeated_variants(s) == ["full"]
    full = runs_table(s).xs("full", level="variant")
    assert full.loc["mean", ("", "runs")] == 2
    assert full.loc["min", ("All", "oIoU")] == pytest.approx(100 * 17 / 37)
    assert full.loc["max", ("All", "oIoU")] == pytest.approx(100 * 24 / 34)
    # the same dump twice: numbered apart
    again = load_dumps(tmp_path / "seed0")[0] + load_dumps(tmp_path / "seed0")[0]
    assert distinct_labels(again)[1].label == str(tmp_path / "seed0" / "full-val") + " #2"
    # val and test of one model are not two runs of it
    write_hand_dump(tmp_path / "seed0" / "full-test", "full", "test")
    both = concat_samples(load_dumps(tmp_path / "seed0")[0])
    with pytest.raises(ValueError, match=r"one dataset and split.*split: \['test', 'val'\]"):
        runs_table(both)


def test_runs_on_two_datasets_of_one_name_are_neither_pooled_nor_paired(tmp_path):
    """SynthRef of two seeds is "synthref" twice, other expressions under the same sample ids:
    the refs files' fingerprints tell them apart, so a second seed's data is no second seed
    of the run; a dump that records no fingerprint (older) keeps the bare name."""
    from dumps_fixture import write_hand_dump

    from tvnet.eval.dump import load_dumps

    def data(folder, fingerprint):
        return {"dataset": {"name": "handmade", "data_dir": f"/d/{folder}",
                            "fingerprint": fingerprint}}  # fmt: skip

    root = tmp_path / "dumps"
    write_hand_dump(root / "seed0", "full", "val", run_extra=data("synth", "a" * 64))
    write_hand_dump(root / "seed1", "full", "val", preds="baseline",
                    run_extra=data("synth-seed1", "b" * 64))  # fmt: skip
    write_hand_dump(root / "base", "baseline", "val", run_extra=data("synth", "a" * 64))
    dumps, errors = load_dumps(root)
    assert errors == []
    names = {d.label: d.dataset_name for d in dumps}
    assert names == {"seed0": "handmade (synth)", "seed1": "handmade (synth-seed1)",
                     "base": "handmade (synth)"}  # fmt: skip
    s = concat_samples(dumps)
    with pytest.raises(ValueError, match="one dataset and split"):  # not pooled as two seeds
        runs_table(s)
    seed0 = runs_table(s[s["dataset"] == "handmade (synth)"]).xs("full", level="variant")
    seed1 = runs_table(s[s["dataset"] == "handmade (synth-seed1)"]).xs("full", level="variant")
    assert seed0.loc["mean", ("", "runs")] == 1 and seed1.loc["mean", ("", "runs")] == 1
    assert seed0.loc["mean", ("All", "oIoU")] == pytest.approx(100 * 17 / 37)
    assert seed1.loc["mean", ("All", "oIoU")] == pytest.approx(100 * 24 / 34)
    # one folder name for both (two copies of "synth"): the fingerprints' first digits
    write_hand_dump(root / "seed1", "full", "val", preds="baseline",
                    run_extra=data("synth", "b" * 64))  # fmt: skip
    dumps, _ = load_dumps(root)
    assert sorted({d.dataset_name for d in dumps}) == ["handmade (aaaaaaaa)", "handmade (bbbbbbbb)"]
    # one fingerprint, or none recorded: the bare name, as before
    write_hand_dump(root / "seed1", "full", "val", preds="baseline")
    dumps, _ = load_dumps(root)
    assert {d.dataset_name for d in dumps} == {"handmade"}


def test_runs_table_over_two_runs_of_one_variant(tmp_path):
    from dumps_fixture import write_hand_dump

    from tvnet.eval.dump import load_dumps

    root = tmp_path / "dumps"
    write_hand_dump(root / "full_seed0", "full", "val")  # oIoU 17/37, mIoU 45.83
    write_hand_dump(root / "full_seed1", "full", "val", preds="baseline")  # 24/34, 50
    write_hand_dump(root / "baseline", "baseline", "val")
    dumps, errors = load_dumps(root)
    assert errors == []
    s = concat_samples(dumps)
    assert set(base_variants(s)) == {"full", "baseline"}
    assert repeated_variants(s) == ["full"]
    t = runs_table(s)
    assert list(t.index.unique("variant")) == ["baseline", "full"]
    full = t.xs("full", level="variant")
    a, b = 100 * 17 / 37, 100 * 24 / 34
    assert full.loc["mean", ("", "runs")] == 2
    assert full.loc["mean", ("All", "oIoU")] == pytest.approx((a + b) / 2)
    assert full.loc["sd", ("All", "oIoU")] == pytest.approx(abs(a - b) / math.sqrt(2))
    assert full.loc["min", ("All", "oIoU")] == pytest.approx(a)
    assert full.loc["max", ("All", "oIoU")] == pytest.approx(b)
    assert full.loc["mean", ("All", "mIoU")] == pytest.approx((100 * 11 / 24 + 50) / 2)
    assert full.loc["mean", ("All", "Prec@0.9")] == pytest.approx(37.5)  # 25 and 50
    assert full.loc["sd", ("All", "Prec@0.5")] == 0.0  # 50 and 50
    one = t.xs("baseline", level="variant")
    assert one.loc["mean", ("", "runs")] == 1 and math.isnan(one.loc["sd", ("All", "oIoU")])
    assert one.loc["min", ("All", "oIoU")] == pytest.approx(b)
    assert "| variant | statistic | runs | All Prec@0.5 |" in to_markdown(t)
    assert "| full | sd | 2 |" in to_markdown(t)
    # labels are paths and may hold " [": the recorded variant decides, not the display name
    import copy

    odd = [copy.copy(d) for d in dumps]
    for d in odd:
        d.label = f"runs/seed [{d.label}]"
    assert repeated_variants(concat_samples(odd)) == ["full"]


def test_warm_started_runs_are_another_recipe_not_another_seed(tmp_path):
    from dumps_fixture import write_hand_dump

    from analysis.report import select
    from tvnet.eval.dump import load_dumps

    root = tmp_path / "dumps"
    write_hand_dump(root / "full_seed0", "full", "val")  # oIoU 17/37
    write_hand_dump(root / "full_seed1", "full", "val", preds="baseline")  # 24/34
    grown = {"init": {"checkpoint": "/r/b/last", "variant": "baseline", "step": 9, "init": None}}
    write_hand_dump(root / "full_grown", "full", "val", preds="baseline", run_extra=grown)
    more = {"init": {"checkpoint": "/r/f/last", "variant": "full", "step": 9, "init": None}}
    write_hand_dump(root / "full_more", "full", "val", run_extra=more)
    dumps, errors = load_dumps(root)
    assert errors == []
    assert sorted(d.start for d in dumps) == ["", "", "grown from baseline", "warm start"]
    s = concat_samples(dumps)
    # the two seeds of the from-scratch recipe pool; each warm start is a row of its own
    assert repeated_variants(s) == ["full"]
    t = runs_table(s)
    assert list(t.index.unique("variant")) == [
        "full",
        "full (grown from baseline)",
        "full (warm start)",
    ]
    assert t.loc[("full", "mean"), ("", "runs")] == 2
    assert t.loc[("full", "mean"), ("All", "oIoU")] == pytest.approx(
        (100 * 17 / 37 + 100 * 24 / 34) / 2
    )
    t1 = table1(s)
    assert t1.loc["full (grown from baseline)", ("All", "oIoU")] == pytest.approx(100 * 24 / 34)
    assert t1.loc["full (warm start)", ("All", "oIoU")] == pytest.approx(100 * 17 / 37)
    # "full" still selects every run of full
    assert len(select(s, variants=["full"])) == len(s)
    assert model_variant("full (grown from baseline)") == model_variant("full [x]") == "full"


def test_runs_of_other_budgets_are_another_recipe_not_another_seed(tmp_path):
    from dumps_fixture import write_hand_dump

    from tvnet.eval.dump import load_dumps

    root = tmp_path / "dumps"
    short = {"train": {"steps": 9000, "batch_size": 8}}
    write_hand_dump(root / "full_seed0", "full", "val", run_extra=short)  # oIoU 17/37
    write_hand_dump(root / "full_seed1", "full", "val", preds="baseline", run_extra=short)
    long = {"train": {"steps": 20000, "batch_size": 8}}
    write_hand_dump(root / "full_long", "full", "val", preds="baseline", run_extra=long)
    # 3000 × 8 grown from 17000 × 8: its own name already, its budget 160k too
    grown = {
        "train": {"steps": 3000, "batch_size": 8},
        "init": {"checkpoint": "/r/b/last", "variant": "baseline", "step": 17000, "init": None},
    }
    write_hand_dump(root / "full_grown", "full", "val", run_extra=grown)
    dumps, errors = load_dumps(root)
    assert errors == []
    assert sorted(d.budget for d in dumps) == [72000, 72000, 160000, 160000]
    s = concat_samples(dumps)
    t = runs_table(s)
    assert list(t.index.unique("variant")) == [  # budgets in numeric order
        "full (72k samples)",
        "full (160k samples)",
        # one budget of its own, said too beside names of several
        "full (grown from baseline, 160k samples)",
    ]
    assert t.loc[("full (72k samples)", "mean"), ("", "runs")] == 2  # the two seeds pool
    assert t.loc[("full (160k samples)", "mean"), ("All", "oIoU")] == pytest.approx(100 * 24 / 34)
    assert model_variant("full (160k samples)") == "full"
    # the step the checkpoint reached counts, not the schedule it was stopped in
    cut = {"train": {"steps": 20000, "batch_size": 8}, "step": 9000}
    write_hand_dump(root / "full_cut", "full", "test", run_extra=cut)
    dumps, _ = load_dumps(root)
    assert {d.label: d.budget for d in dumps}["full_cut"] == 72000
    # stopped before its schedule ended: its own name, never pooled with finished runs
    s = concat_samples(dumps)
    assert set(s[s.split == "test"].base_variant) == {"full (step 9,000 of 20,000, 72k samples)"}
    # a name carries its budget on every split once any split has two budgets
    write_hand_dump(root / "full_long_test", "full", "test", run_extra=long)
    s = concat_samples(load_dumps(root)[0])
    assert set(s[s.split == "test"].base_variant) == {
        "full (step 9,000 of 20,000, 72k samples)",
        "full (160k samples)",
    }
    # one budget (or none recorded) for a name: the name stays as it was
    one = concat_samples([d for d in dumps if d.budget == 72000 and d.label != "full_cut"])
    assert set(one.base_variant) == {"full"}


def test_table3_small_oiou_per_dataset_and_split(samples):
    t = table3(samples)
    assert list(t.columns) == [("handmade", "test"), ("handmade", "val")]
    assert t.loc["full", ("handmade", "val")] == 50.0
    assert t.loc["full", ("handmade", "test")] == 100.0
    assert math.isnan(t.loc["baseline", ("handmade", "test")])  # no such run


def test_size_table_breakdown(samples):
    t = size_table(samples[samples["split"] == "val"])
    full = t.loc["full"]
    assert list(full.index) == ["all", "small", "medium", "big"]
    assert list(full["n"]) == [4, 2, 1, 1]
    assert list(full["share (%)"]) == [100.0, 50.0, 25.0, 25.0]
    assert full.loc["medium", "oIoU"] == pytest.approx(100 / 3)
    assert full.loc["big", "oIoU"] == 50.0 and full.loc["big", "Prec@0.5"] == 100.0
    assert t.loc[("baseline", "big"), "mIoU"] == 100.0


def test_size_distribution_counts_and_shares(samples):
    d = size_distribution(samples[samples["variant"] == "full"])
    assert d.loc["val", ("n", "small")] == 2 and d.loc["val", ("n", "total")] == 4
    assert d.loc["test", ("n", "medium")] == 0
    assert d.loc["val", ("share (%)", "medium")] == 25.0
    assert d.loc["test", ("share (%)", "big")] == 50.0


def test_metrics_table_per_bin_keys(samples):
    m = metrics_table(samples[samples["split"] == "val"])
    assert m.loc["full", "n"] == 4 and m.loc["full", "small/n"] == 2
    assert m.loc["baseline", "overall_iou"] == pytest.approx(24 / 34)


def test_empty_selection_gives_empty_tables(samples):
    empty = samples.iloc[0:0]
    assert table1(empty).empty
    assert table3(empty).empty
    assert size_distribution(empty).empty


def test_markdown_export(samples):
    md = to_markdown(table1(samples[samples["split"] == "val"]))
    lines = md.strip().splitlines()
    assert lines[0].startswith("| variant | All Prec@0.5 |") and "Small mIoU" in lines[0]
    assert lines[1].startswith("|---|---:")
    assert lines[2].split(" | ")[0] == "| baseline"
    assert "70.59" in lines[2] and "45.95" in lines[3] and "45.83" in lines[3]
    assert len(lines) == 4
    # NaN → en dash
    assert "| baseline | – | 50.00 |" in to_markdown(table3(samples))


def test_latex_export(samples):
    tex = to_latex(table1(samples[samples["split"] == "val"]), caption="Ablation 100%", label="t1")
    assert r"\multicolumn{7}{c}{All} & \multicolumn{7}{c}{Small}" in tex
    assert r"\cmidrule(lr){2-8} \cmidrule(lr){9-15}" in tex
    assert r"\caption{Ablation 100\%}" in tex and r"\label{t1}" in tex
    row = next(line for line in tex.splitlines() if line.startswith("full &"))
    assert row.count("&") == 14 and "45.95" in row and row.endswith(r"\\")
    assert tex.count(r"\begin{tabular}{lrrrrrrrrrrrrrr}") == 1
    # special characters are escaped
    odd = pd.DataFrame({"a_b": [1.0]}, index=pd.Index(["x&y"], name="run#"))
    assert r"x\&y & 1.00" in to_latex(odd) and r"run\# & a\_b" in to_latex(odd)
    # the report's symbols as math, which pdflatex sets; a label keeps only what \label holds
    sym = pd.DataFrame({"Δ IoU": [1.0]}, index=pd.Index(["IoU ≥ 0.5"], name="n × m"))
    tex = to_latex(sym, caption="IoU ≤ 0.5 ± 1", label="tab:full #2 (50%)")
    assert r"IoU $\geq$ 0.5 & 1.00" in tex and r"n $\times$ m & $\Delta$ IoU" in tex
    assert r"\caption{IoU $\leq$ 0.5 $\pm$ 1}" in tex and r"\label{tab:full-2-50-}" in tex
    assert not any(ord(ch) > 127 for ch in tex)
    # what OT1 sets as other glyphs ("<" as "¡", "`" as a curly quote), as text commands
    tex = to_latex(sym, caption="changed (IoU < 0.99) | `tvnet calibrate` > 1")
    assert r"(IoU \textless{} 0.99) \textbar{} \textasciigrave{}tvnet" in tex
    assert r"calibrate\textasciigrave{} \textgreater{} 1" in tex


def test_csv_export_full_precision(samples):
    csv = to_csv(table1(samples[samples["split"] == "val"]))
    df = pd.read_csv(io.StringIO(csv), index_col=0)
    assert df.loc["full", "All oIoU"] == pytest.approx(100 * 17 / 37, abs=1e-9)
    assert "Small Prec@0.9" in df.columns


def test_type_table_against_hand_computed_numbers(samples):
    from analysis.tables import type_table

    # sent_id = 100 + sample; sample 3's sentence has no recorded type
    types = {100: "attribute", 101: "attribute", 102: "relation"}
    full = samples[(samples["variant"] == "full") & (samples["split"] == "val")]
    t = type_table(full, types)
    assert list(t.index) == [("full", "?"), ("full", "attribute"), ("full", "relation")]
    attr, rel, unknown = (
        t.loc[("full", "attribute")],
        t.loc[("full", "relation")],
        t.loc[("full", "?")],
    )
    # attribute = samples 0 (4/4) and 1 (0/4): oIoU 4/8, mIoU (1 + 0)/2, Prec@X 50 %
    assert attr["n"] == 2 and math.isclose(attr["oIoU"], 50.0) and math.isclose(attr["mIoU"], 50.0)
    assert [attr[p] for p in PREC] == [50.0] * 5
    # relation = sample 2 (10/20): IoU exactly 0.5 passes Prec@0.5 only
    assert rel["n"] == 1 and math.isclose(rel["oIoU"], 50.0)
    assert [rel[p] for p in PREC] == [100.0, 0.0, 0.0, 0.0, 0.0]
    # "?" = sample 3 (3/9)
    assert unknown["n"] == 1 and math.isclose(unknown["oIoU"], 100 / 3)
    # a type the row records wins over the given map (which may be other data's); the map
    # fills the rows that record none
    recorded = full.assign(expression_type=[None, "ordinal", None, None])
    t = type_table(recorded, types)
    assert t.loc[("full", "ordinal"), "n"] == 1 and t.loc[("full", "attribute"), "n"] == 1


def test_expression_types_reads_synthref_sentence_types(tiny_synthref):
    from analysis.tables import expression_types
    from tvnet.data.synthref import KINDS

    refer = tiny_synthref["refer"]
    types = expression_types(refer)
    sent_ids = {s.sent_id for split in ("train", "val", "test") for s in refer.samples(split)}
    assert set(types) == sent_ids  # every SynthRef sentence records its type
    assert set(types.values()) <= set(KINDS)


def test_row_names_agree_with_the_table_and_unfinished_runs_keep_apart(tmp_path):
    """row_names (tables of a row per dump) gives each dump the name concat_samples gives its
    rows; a step recorded as a float or a string is still a step ("step 9,000 of 20,000"), a
    bool is none; numbers with thousands separators sort as numbers."""
    from dumps_fixture import write_hand_dump

    from analysis.failures import dump_rows
    from analysis.naming import row_names
    from analysis.tables import variant_key
    from tvnet.eval.dump import load_dumps

    root = tmp_path / "dumps"
    for name, extra in {
        "full_end": {"train": {"steps": 20000, "batch_size": 8}},
        "full_float": {"train": {"steps": 20000, "batch_size": 8}, "step": 9000.0},
        "full_text": {"train": {"steps": "20000", "batch_size": 8}, "step": "1500"},
        "full_bool": {"train": {"steps": 3, "batch_size": 8}, "step": True},
    }.items():
        for split in ("val", "test"):
            write_hand_dump(root / f"{name}_{split}", "full", split, run_extra=extra)
    dumps, errors = load_dumps(root)
    assert errors == []
    by_label = dict(zip((d.label for d in dumps), row_names(dumps)))
    rows = concat_samples(dumps).groupby("run")["variant"].first()
    assert by_label == rows.to_dict()
    assert by_label["full_float_val"] == "full (step 9,000 of 20,000, 72k samples)"
    assert by_label["full_text_val"] == "full (step 1,500 of 20,000, 12k samples)"
    assert by_label["full_bool_val"] == "full (24 samples)"  # no step: 3 × 8 of the schedule
    ordered = sorted(set(by_label.values()), key=variant_key)
    assert ordered.index("full (step 1,500 of 20,000, 12k samples)") < ordered.index(
        "full (step 9,000 of 20,000, 72k samples)"
    )
    # a table of a row per dump over two splits names the split too, each row kept
    names = [n for n, _ in dump_rows([d for d in dumps if d.label.startswith("full_end")])]
    assert names == ["full / test", "full / val"]


def test_cells_of_every_float_kind_are_written_alike():
    """numpy floats with the digits asked for (np.float32 printed every digit it had), a
    value that rounds to zero without its minus sign, and None or NA as NaN's "–"."""
    from analysis.export import _fmt

    assert _fmt(np.float32(0.1234567), 2) == "0.12" and _fmt(np.float64(2.5), 1) == "2.5"
    assert _fmt(-0.001, 2) == "0.00" and _fmt(-0.01, 2) == "-0.01"
    assert _fmt(None, 2) == _fmt(pd.NA, 2) == _fmt(float("nan"), 2) == "–"
    assert _fmt(3, 2) == "3" and _fmt("full", 2) == "full"
