"""analysis/naming.py: which run a dump is (repeats left out) and what its rows are called,
on hand-made dumps (tests/dumps_fixture.py), through the report as a user runs it."""

from __future__ import annotations

import shutil

import pytest
from dumps_fixture import write_hand_dump

from analysis import report
from analysis.naming import row_names, run_tag, unique_dumps
from analysis.tables import concat_samples, runs_table, table3, training_table
from tvnet.eval.dump import find_dumps, load_dumps


def _seed(n: int) -> dict:
    return {"checkpoint_hash": f"{n}" * 64, "train": {"steps": 500, "batch_size": 8}}


def _two_seeds(root, splits=("val", "test")):
    """Two seeds of full, each with a val and a test dump, folders like the shipped ones."""
    for split in splits:
        write_hand_dump(root / f"full-4k-{split}", "full", split, run_extra=_seed(0))
        write_hand_dump(
            root / "seed1" / f"full-4k-{split}", "full", split, preds="baseline",
            run_extra=_seed(1),
        )  # fmt: skip
    return root


def test_a_copy_of_a_dump_is_left_out_not_pooled_as_a_seed(tmp_path):
    root = _two_seeds(tmp_path / "dumps", splits=("val",))
    shutil.copytree(root / "seed1" / "full-4k-val", tmp_path / "elsewhere" / "full-4k-val")
    dumps = load_dumps(root)[0] + load_dumps(tmp_path / "elsewhere")[0]
    assert len(dumps) == 3
    # pooled as they are, one checkpoint twice on a split is no seed: seed 0 stays alone
    assert runs_table(concat_samples(dumps)).loc[("full", "mean"), ("", "runs")] == 1
    kept, left = unique_dumps(dumps)
    assert [d.path for d in kept] == [d.path for d in dumps[:2]]  # their order kept
    assert [p for p, _ in left] == [tmp_path / "elsewhere" / "full-4k-val"]
    assert "the same evaluation as" in left[0][1] and "checkpoint 111111111111…" in left[0][1]
    assert runs_table(concat_samples(kept)).loc[("full", "mean"), ("", "runs")] == 2
    # read with another pool's neighbours, one checkpoint is scored anew: no repeat
    other_pool = load_dumps(tmp_path / "elsewhere")[0]
    other_pool[0].run["pool"] = "runs/another-pool"
    scored_anew = unique_dumps(load_dumps(root)[0] + other_pool)[0]
    assert len(scored_anew) == 3
    # but one set of weights is no two seeds: its two scorings each pool alone, under their
    # own names, and seed 0 stays alone under "full"
    runs = runs_table(concat_samples(scored_anew))
    assert runs.loc[("full", "mean"), ("", "runs")] == 1
    assert sorted(runs.index.unique("variant")) == [
        "full",
        f"full [{tmp_path / 'elsewhere' / 'full-4k-val'}]",  # labels told apart by path
        "full [seed1/full-4k-val]",
    ]
    # the same folder given twice is a repeat too, even without a hash
    again = load_dumps(root / "full-4k-val")[0] + load_dumps(root / "full-4k-val")[0]
    for d in again:
        d.run.pop("checkpoint_hash")
    assert len(unique_dumps(again)[0]) == 1


def test_the_fuller_of_two_evaluations_stays(tmp_path):
    write_hand_dump(tmp_path / "part", "full", "val", samples=(0, 1), run_extra=_seed(0))
    write_hand_dump(tmp_path / "whole", "full", "val", run_extra=_seed(0))
    kept, left = unique_dumps(load_dumps(tmp_path)[0])
    assert [d.path.name for d in kept] == ["whole"] and [p.name for p, _ in left] == ["part"]
    # scored otherwise (a part of the split, recorded since split_size): not a repeat
    write_hand_dump(
        tmp_path / "part", "full", "val", samples=(0, 1),
        run_extra={**_seed(0), "n_samples": 2, "split_size": 4},
    )  # fmt: skip
    dumps = load_dumps(tmp_path)[0]
    assert [d.name for d in dumps] == ["full (first 2 of 4 samples)", "full"]
    assert len(unique_dumps(dumps)[0]) == 2


def test_words_read_as_written_are_another_scoring(tmp_path):
    literal = {**_seed(0), "reading": {"lexicon": False, "literal": True}}
    write_hand_dump(tmp_path / "literal", "full", "val", run_extra=literal)
    write_hand_dump(tmp_path / "read", "full", "val", run_extra={**_seed(0), "reading": {}})
    dumps = load_dumps(tmp_path)[0]
    assert [d.name for d in dumps] == ["full (words as written)", "full"]
    assert len(unique_dumps(dumps)[0]) == 2


def test_a_run_keeps_one_row_name_over_its_splits(tmp_path):
    root = _two_seeds(tmp_path / "dumps")
    dumps = load_dumps(root)[0]
    assert sorted(run_tag(d) for d in dumps) == ["full-4k"] * 2 + ["seed1/full-4k"] * 2
    assert sorted(set(row_names(dumps))) == ["full [full-4k]", "full [seed1/full-4k]"]
    s = concat_samples(dumps)
    t3 = table3(s)  # a row per run, its val and test side by side
    assert list(t3.index) == ["full [full-4k]", "full [seed1/full-4k]"]
    assert not t3.isna().any().any()
    trained = training_table(dumps, s)  # one row per checkpoint, not per dump
    assert len(trained) == 2
    # one run's val and another's test, of one folder name: two runs, told apart by weights
    lone = load_dumps(root / "full-4k-val")[0] + load_dumps(root / "seed1" / "full-4k-test")[0]
    assert row_names(lone) == ["full [weights 00000000]", "full [weights 11111111]"]
    # one run, val and test: no tag
    one = load_dumps(root / "full-4k-val")[0] + load_dumps(root / "full-4k-test")[0]
    assert row_names(one) == ["full", "full"]


def test_runs_whose_folders_do_not_tell_them_apart_are_named_by_weights(tmp_path):
    """Two seeds whose dumps share a tag, and one run kept in folders per split (val/full,
    test/full): named by what tells the runs apart, one name per run."""
    write_hand_dump(tmp_path / "a" / "a-val", "full", "val", run_extra=_seed(0))
    write_hand_dump(tmp_path / "a" / "a_val", "full", "val", preds="baseline", run_extra=_seed(1))
    names = row_names(load_dumps(tmp_path / "a")[0])
    assert names == ["full [weights 00000000]", "full [weights 11111111]"]
    for split in ("val", "test"):
        write_hand_dump(tmp_path / "b" / split / "full", "full", split, run_extra=_seed(0))
    assert row_names(load_dumps(tmp_path / "b")[0]) == ["full", "full"]
    write_hand_dump(tmp_path / "b" / "val" / "full2", "full", "val", run_extra=_seed(2))
    names = row_names(load_dumps(tmp_path / "b")[0])  # test/full, val/full, val/full2
    assert names == ["full [weights 00000000]"] * 2 + ["full [val/full2]"]


def test_the_report_leaves_a_copy_out_and_says_so(tmp_path, capsys):
    root = _two_seeds(tmp_path / "dumps", splits=("val",))
    copy = tmp_path / "copy"
    shutil.copytree(root / "full-4k-val", copy / "full-4k-val")
    assert report.main([str(root), str(copy), "--out", str(tmp_path / "r")]) == 0
    assert "the same evaluation as" in capsys.readouterr().err
    md = (tmp_path / "r" / "tables.md").read_text()
    assert "**Dumps left out:**" in md and "| full | mean | 2 |" in md


@pytest.mark.parametrize("names", [("refcoco", "refcoco+"), ("a.b", "a_b")])
def test_report_files_of_two_datasets_never_replace_each_other(tmp_path, names):
    for name in names:
        write_hand_dump(
            tmp_path / "dumps" / name, "full", "val", run_extra={"dataset": {"name": name}}
        )
    written = report.build_report(load_dumps(tmp_path / "dumps")[0], tmp_path / "r", dpi=30)
    assert len(written) == len(set(written))
    tables1 = sorted(p.name for p in written if p.name.startswith("table1_"))
    assert len(tables1) == 2, tables1
    if names[1] == "refcoco+":
        assert tables1 == ["table1_refcoco_plus_val.csv", "table1_refcoco_val.csv"]


def test_a_training_run_folder_is_no_dump(tmp_path):
    run = tmp_path / "runs" / "full"
    run.mkdir(parents=True)
    (run / "run.json").write_text('{"train": {"steps": 10}}')
    (run / "log.jsonl").write_text('{"step": 1}\n')
    write_hand_dump(tmp_path / "runs" / "dumps" / "full-val", "full", "val")
    assert find_dumps(tmp_path / "runs") == [tmp_path / "runs" / "dumps" / "full-val"]
    dumps, errors = load_dumps(tmp_path / "runs")
    assert errors == [] and len(dumps) == 1
    # a dump that lost its rows is still reported, not skipped
    (tmp_path / "runs" / "dumps" / "full-val" / "samples.parquet").unlink()
    assert len(load_dumps(tmp_path / "runs")[1]) == 1


def test_rows_that_leave_split_and_variant_unrecorded_take_their_runs(tmp_path):
    """load_dump accepts rows whose split and variant are "" (RISEvaluator's default when not
    told) or null; they used to keep them, so a table came out titled "synthref / " with a
    blank row, and null splits were dropped from every group or failed sorting."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    for name, blank in (("empty", ""), ("null", None)):
        out = write_hand_dump(tmp_path / name / "full-val", "full", "val", run_extra=_seed(0))
        rows = pd.read_parquet(out / "samples.parquet").assign(split=blank, variant=blank)
        table = pa.Table.from_pandas(rows, preserve_index=False)
        pq.write_table(table, out / "samples.parquet")
        (d,) = load_dumps(tmp_path / name)[0]
        s = concat_samples([d])
        assert set(s["split"]) == {"val"} and set(s["variant"]) == {"full"}
        assert list(runs_table(s).index.get_level_values(0).unique()) == ["full"]
