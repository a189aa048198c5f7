"""analysis/report.py: the CLI writes tables and figures with the hand-computed numbers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from dumps_fixture import add_broken_dumps, make_dump_tree, write_hand_dump

from analysis import report
from tvnet.eval.dump import load_dumps

REPO = Path(__file__).resolve().parents[2]


def test_report_writes_tables_and_figures(dump_root, tmp_path, capsys):
    out = tmp_path / "report"
    assert report.main([str(dump_root), "--out", str(out), "--dpi", "40"]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        [
            "tables.md",
            "tables.tex",
            "table1_handmade_val.csv",
            "table1_handmade_test.csv",
            "table3.csv",
            "sizes_handmade_val.csv",
            "sizes_handmade_test.csv",
            "fig7_size_distribution.csv",
            "fig7_size_distribution.png",
            "iou_histogram_handmade_val.png",
            "iou_histogram_handmade_test.png",
            "prec_curves_handmade_val.png",
            "prec_curves_handmade_test.png",
        ]
    )
    md = (out / "tables.md").read_text()
    assert "## Table 1 — handmade / val" in md and "oIoU = overall IoU = ΣI / ΣU" in md
    row = next(line for line in md.splitlines() if line.startswith("| full | 50.00 | 25.00"))
    assert "| 45.95 | 45.83 |" in row
    tex = (out / "tables.tex").read_text()
    assert tex.count(r"\begin{table}") == 6 and "70.59" in tex
    t1 = pd.read_csv(out / "table1_handmade_val.csv", index_col=0)
    assert t1.loc["baseline", "All oIoU"] == pytest.approx(100 * 24 / 34)
    fig7 = pd.read_csv(out / "fig7_size_distribution.csv", index_col=0)
    # one row per expression: full and baseline both evaluated val, counted once
    assert fig7.loc["val", "n total"] == 4 and fig7.loc["test", "n total"] == 2
    for png in out.glob("*.png"):
        assert png.read_bytes()[:4] == b"\x89PNG"
    assert not list(out.glob(".*"))  # no temporary files left behind
    assert "3 dump(s)" in capsys.readouterr().out


def test_two_roots_of_two_datasets_of_one_name_stay_two_datasets(tmp_path):
    """The usage `report seed0 seed1`: each root holds one SynthRef, so only across roots do
    their fingerprints differ; tagged over both, Table 1 keeps them apart instead of
    averaging the two seeds' data as two seeds."""
    from dumps_fixture import write_hand_dump

    for seed, preds in ((0, None), (1, "baseline")):
        data = {"dataset": {"name": "handmade", "data_dir": f"/d/synth-seed{seed}",
                            "fingerprint": str(seed) * 64}}  # fmt: skip
        write_hand_dump(tmp_path / f"seed{seed}" / "full", "full", "val", preds=preds,
                        run_extra=data)  # fmt: skip
    out = tmp_path / "r"
    assert report.main([str(tmp_path / "seed0"), str(tmp_path / "seed1"), "--out", str(out)]) == 0
    md = (out / "tables.md").read_text()
    assert "handmade (synth-seed0)" in md and "handmade (synth-seed1)" in md
    assert "| full | mean | 2 |" not in md  # never one run table over the two


def test_report_filters_and_skips_broken_dumps(tmp_path, capsys):
    root = make_dump_tree(tmp_path / "dumps", with_images=False)
    broken = add_broken_dumps(root)
    out = tmp_path / "r"
    rc = report.main([str(root / "full_val"), str(root), "--out", str(out), "--split", "val"])
    assert rc == 0
    err = capsys.readouterr().err
    assert all(name in err for name in broken)
    md = (out / "tables.md").read_text()
    assert "handmade / test" not in md and "Dumps left out" in md
    assert "missing column(s) union" in md
    # --out naming a file: an error that says where, nothing written
    (tmp_path / "a-file").write_text("mine")
    assert report.main([str(root), "--out", str(tmp_path / "a-file")]) == 1
    assert "cannot write the report to" in capsys.readouterr().err
    assert (tmp_path / "a-file").read_text() == "mine"
    # a --split that matches nothing (a typo): said, and the report there left as it was
    before = (out / "tables.md").read_text()
    assert report.main([str(root), "--out", str(out), "--split", "vall"]) == 1
    assert "no rows match --split vall" in capsys.readouterr().err
    assert (out / "tables.md").read_text() == before


def test_report_adds_table1_over_runs_only_for_repeated_variants(tmp_path):
    root = make_dump_tree(tmp_path / "dumps", with_images=False)
    assert report.main([str(root), "--out", str(tmp_path / "r0")]) == 0
    assert "Table 1 over runs" not in (tmp_path / "r0" / "tables.md").read_text()
    write_hand_dump(root / "full_val_seed1", "full", "val", preds="baseline")
    assert report.main([str(root), "--out", str(tmp_path / "r")]) == 0
    md = (tmp_path / "r" / "tables.md").read_text()
    assert "## Table 1 over runs — handmade / val" in md
    assert "handmade / test (mean" not in md  # one run per variant there
    assert "| full | mean | 2 | 50.00 |" in md  # Prec@0.5 50 and 50
    assert (tmp_path / "r" / "table1_runs_handmade_val.csv").is_file()
    # --variants full keeps both runs of full (shown as "full [label]" in Table 1)
    assert report.main([str(root), "--out", str(tmp_path / "r2"), "--variants", "full"]) == 0
    md = (tmp_path / "r2" / "tables.md").read_text()
    assert "## Table 1 over runs — handmade / val" in md and "| baseline |" not in md


def test_report_fails_clearly_without_dumps(tmp_path, capsys):
    assert report.main([str(tmp_path), "--out", str(tmp_path / "o")]) == 1
    assert "no readable dump" in capsys.readouterr().err


def test_cli_help_runs_as_module():
    res = subprocess.run(
        [sys.executable, "-m", "analysis.report", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 0
    assert "--out DIR" in res.stdout and "recomputed from the dumps' rows" in res.stdout


def test_report_adds_a_per_type_table_for_the_named_dataset(hand_dumps, tmp_path):
    types = {100: "attribute", 101: "attribute", 102: "relation", 103: "ordinal"}
    written = report.build_report(hand_dumps, tmp_path, dpi=40, types=("handmade", types))
    names = {p.name for p in written}
    assert {"types_handmade_val.csv", "types_handmade_test.csv"} <= names
    t = pd.read_csv(tmp_path / "types_handmade_val.csv", index_col=[0, 1])
    # baseline: samples 0, 1 (attribute) → 4/8; sample 3 (ordinal) → 0/6
    assert t.loc[("baseline", "attribute"), "oIoU"] == pytest.approx(50.0)
    assert t.loc[("baseline", "ordinal"), "oIoU"] == pytest.approx(0.0)
    assert "## Per-expression-type metrics — handmade / val" in (tmp_path / "tables.md").read_text()
    # another dataset's types are not applied to these dumps
    other = report.build_report(hand_dumps, tmp_path / "o", dpi=40, types=("refcoco", types))
    assert not any(p.name.startswith("types_") for p in other)
    # nor those of other data of the same name (another seed): where a dump records its
    # data's fingerprint, it must be the types' data's
    import copy

    seed1 = copy.deepcopy(hand_dumps)
    for d in seed1:
        d.run["dataset"] = {"name": "handmade", "fingerprint": "1" * 64}
    other = report.build_report(seed1, tmp_path / "s1", dpi=40, types=("handmade", types, "0" * 64))
    assert not any(p.name.startswith("types_") for p in other)
    same = report.build_report(seed1, tmp_path / "s0", dpi=40, types=("handmade", types, "1" * 64))
    assert any(p.name == "types_handmade_val.csv" for p in same)


def test_report_reads_expression_types_recorded_in_the_dumps(hand_dumps, tmp_path):
    import copy

    typed = copy.deepcopy(hand_dumps)
    kinds = {100: "attribute", 101: "attribute", 102: "relation", 103: "ordinal"}
    for d in typed:
        d.samples["expression_type"] = d.samples["sent_id"].map(kinds)
    written = {p.name for p in report.build_report(typed, tmp_path, dpi=40)}
    assert {"types_handmade_val.csv", "types_handmade_test.csv"} <= written
    t = pd.read_csv(tmp_path / "types_handmade_val.csv", index_col=[0, 1])
    assert t.loc[("baseline", "attribute"), "oIoU"] == pytest.approx(50.0)  # as from --data
    # an older dump without the column, next to one that records it: the types carry over
    mixed = [typed[0], *copy.deepcopy(hand_dumps[1:])]
    assert mixed[1].samples["expression_type"].isna().all()  # an older dump reads as NaN
    report.build_report(mixed, tmp_path / "m", dpi=40)
    m = pd.read_csv(tmp_path / "m" / "types_handmade_val.csv", index_col=[0, 1])
    assert "?" not in set(m.index.get_level_values(1))
    assert m.loc[("baseline", "attribute"), "oIoU"] == pytest.approx(50.0)
    # dumps without recorded types and no --data: no per-type table
    plain = {p.name for p in report.build_report(hand_dumps, tmp_path / "p", dpi=40)}
    assert not any(n.startswith("types_") for n in plain)


def test_report_says_how_each_checkpoint_trained(tmp_path):
    """One row per checkpoint (its val and test dumps together), with the hand-made record's
    wall time, time suspended, rate, processors and precisions; a checkpoint without one shows
    its budget."""
    took = {"runs": [{"from_step": 0, "to_step": 500, "wall_s": 1800.0, "batch_size": 8,
                      "processor": "CPU X", "precision": "bf16 autocast"},
                     {"from_step": 500, "to_step": 1000, "wall_s": 1800.0, "batch_size": 8,
                      "processor": "CPU Y", "precision": "bf16 autocast"}],
            "wall_s": 3600.0, "stalled_s": 1200.0, "samples": 8000,
            "samples_per_s": 8000 / 2400}  # fmt: skip
    full = {"train": {"steps": 1000, "batch_size": 8}, "training_time": took}
    base = {"train": {"steps": 500, "batch_size": 8}}
    root = tmp_path / "dumps"
    for split in ("val", "test"):
        write_hand_dump(root / f"full_{split}", "full", split, run_extra=full)
        write_hand_dump(root / f"baseline_{split}", "baseline", split, run_extra=base)
    written = report.build_report(load_dumps(root)[0], tmp_path / "r", dpi=40)
    md = (tmp_path / "r" / "tables.md").read_text()
    assert "| handmade | baseline | 4,000 | – | – | – | – | – |" in md
    # an hour, 20 min of it suspended: 8000 samples in the 40 min it ran
    assert (
        "| handmade | full | 8,000 | 60.00 | 20.00 | 3.33 | CPU X / CPU Y | bf16 autocast |" in md
    )
    assert md.count("| handmade | full | 8,000") == 1  # val and test: one checkpoint
    assert tmp_path / "r" / "training.csv" in written
    # dumps that record neither a budget nor a time: no such table
    plain = make_dump_tree(tmp_path / "plain", with_images=False)
    report.build_report(load_dumps(plain)[0], tmp_path / "p", dpi=40)
    assert "## Training" not in (tmp_path / "p" / "tables.md").read_text()


def test_variants_selects_the_name_runs_pool_under():
    """`--variants "full (160k samples)"`, the row name of Table 1 over runs, keeps the runs
    pooled under it (their row names carry a tag besides)."""
    rows = pd.DataFrame(
        {
            "variant": ["full (160k samples) [seed1]", "full (160k samples) [seed0]", "baseline"],
            "base_variant": ["full (160k samples)", "full (160k samples)", "baseline"],
            "split": ["val"] * 3,
        }
    )
    kept = report.select(rows, variants=["full (160k samples)"])
    assert list(kept["variant"]) == list(rows["variant"][:2])
    assert list(report.select(rows, variants=["full"])["variant"]) == list(rows["variant"][:2])
    assert report.select(rows, variants=["res"]).empty
