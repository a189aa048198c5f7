"""tvnet/eval/dump.py and dump_writer.py: round trip, exact aggregates, atomicity, validation of broken dumps."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tvnet.eval.dump import (
    COLUMNS,
    DumpError,
    load_dump,
    load_dumps,
)
from tvnet.eval.dump_writer import DumpWriter
from tvnet.eval.metrics import RISEvaluator, aggregate
from tvnet.eval.rle import decode_rle

DESIGN_COLUMNS = [
    "sample_id", "ref_id", "sent_id", "image_id", "sentence", "inter", "union", "iou",
    "gt_area_frac", "size_bin", "height", "width", "pred_rle", "gt_rle",
    "neighbour_image_id", "neighbour_sentence", "neighbour_score", "variant", "split",
]  # fmt: skip
# docs/design.md §5's optional columns of confidence and neighbour influence (§7)
TRUST_COLUMNS = [
    "score", "confidence", "image_similarity", "nogate_inter", "nogate_union", "nogate_iou",
    "randnb_inter", "randnb_union", "randnb_iou",
]  # fmt: skip


def _records(n, seed=0):
    rng = np.random.default_rng(seed)
    for k in range(n):
        h, w = int(rng.integers(8, 40)), int(rng.integers(8, 40))
        gt = np.zeros((h, w), bool)
        s = int(rng.integers(1, min(h, w)))
        gt[:s, :s] = True
        pred = np.roll(gt, int(rng.integers(0, 3)), axis=1) if k % 5 else np.zeros_like(gt)
        rec = {"pred": pred, "gt": gt, "sample_id": k, "ref_id": 100 + k // 2, "sent_id": 1000 + k}
        rec.update(image_id=k // 3, sentence=f"the square number {k}")
        if k % 4:
            rec.update(neighbour_image_id=7, neighbour_sentence="a red square", neighbour_score=0.5)
        yield rec


RUN_INFO = {
    "config": {"preset": "cpu"},
    "checkpoint_sha256": "abc",
    "code_version": "test",
    "dataset": {"name": "synthref", "data_dir": "/nowhere"},
    "split": "val",
    "variant": "full",
    "protocol": {"threshold": 0.5, "resolution": "original"},
}


def _write(tmp_path, n=50, chunk_rows=16):
    out = tmp_path / "dumps" / "full_val"
    records = list(_records(n))
    with DumpWriter(out, RUN_INFO, chunk_rows=chunk_rows) as w:
        ev = RISEvaluator(variant="full", split="val", dump=w)
        for i in range(0, n, 9):
            ev.process(records[i : i + 9])
        metrics = ev.evaluate()
        w.close(metrics=metrics, timings={"eval_s": 1.5})
    return out, records, metrics


def test_round_trip_columns_rows_and_exact_aggregates(tmp_path):
    out, records, metrics = _write(tmp_path)
    assert sorted(p.name for p in out.iterdir()) == ["run.json", "samples.parquet"]
    # chunked: several row groups were written
    assert pq.ParquetFile(out / "samples.parquet").num_row_groups == 4
    dump = load_dump(out)
    # docs/design.md §5's columns, then the optional expression type and reading (null: these
    # records have none) and the optional confidence and influence columns (null: none given)
    assert (
        list(dump.samples.columns)
        == [*DESIGN_COLUMNS, "expression_type", "read_as", *TRUST_COLUMNS]
        == list(COLUMNS)
    )
    assert dump.samples.expression_type.isna().all() and dump.samples.read_as.isna().all()
    assert dump.samples[TRUST_COLUMNS].isna().all().all()
    df = dump.samples
    assert len(df) == 50 and list(df.sample_id) == list(range(50))
    for rec, row in zip(records, df.itertuples()):
        assert np.array_equal(decode_rle(row.gt_rle, row.height, row.width), rec["gt"])
        assert np.array_equal(decode_rle(row.pred_rle, row.height, row.width), rec["pred"])
        assert row.inter == np.count_nonzero(rec["pred"] & rec["gt"])
        assert row.gt_area_frac == rec["gt"].mean()
    assert df.neighbour_image_id.isna().sum() == len(range(0, 50, 4))
    assert set(df.variant) == {"full"} and set(df.split) == {"val"}
    # the aggregates in run.json recompute *exactly* from the rows
    recomputed = aggregate(df)
    run = json.loads((out / "run.json").read_text())
    assert set(recomputed) == set(metrics)
    for k, v in recomputed.items():
        if isinstance(v, float) and np.isnan(v):
            assert run["metrics"][k] is None
        else:
            assert run["metrics"][k] == v == metrics[k], k
    assert run["timings"]["eval_s"] == 1.5 and "dump_write_s" in run["timings"]
    assert run["dataset"] == RUN_INFO["dataset"] and run["n_samples"] == 50
    assert dump.variant == "full" and dump.split == "val"


def test_close_without_metrics_computes_them(tmp_path):
    out = tmp_path / "d"
    with DumpWriter(out, {"variant": "x"}) as w:
        RISEvaluator("x", "test", dump=w).process(_records(10))
    run = json.loads((out / "run.json").read_text())
    assert run["metrics"]["n"] == 10
    assert run["metrics"]["overall_iou"] == aggregate(load_dump(out).samples)["overall_iou"]


def test_exception_mid_write_leaves_no_dump(tmp_path):
    out = tmp_path / "dumps" / "run"
    with pytest.raises(RuntimeError, match="boom"):
        with DumpWriter(out, RUN_INFO, chunk_rows=4) as w:
            RISEvaluator(dump=w).process(_records(10))  # two chunks already on disk
            assert (w.tmp_dir / "samples.parquet").exists()
            raise RuntimeError("boom")
    assert not out.exists()
    assert list((tmp_path / "dumps").iterdir()) == []  # no temp folder left either


def test_rewrite_replaces_old_dump_only_on_success(tmp_path):
    out, _, _ = _write(tmp_path, n=20)
    with pytest.raises(RuntimeError):
        with DumpWriter(out, RUN_INFO) as w:
            RISEvaluator(dump=w).process(_records(3))
            raise RuntimeError("crash")
    assert len(load_dump(out).samples) == 20  # the old dump survives
    with DumpWriter(out, RUN_INFO) as w:
        RISEvaluator(dump=w).process(_records(3))
    assert len(load_dump(out).samples) == 3
    assert sorted(p.name for p in out.parent.iterdir()) == ["full_val"]


def test_a_dump_written_to_the_current_folder_replaces_it(tmp_path, monkeypatch):
    """`tvnet eval --out .` inside an earlier dump: "." names no folder to swap, so it is read
    as the folder it is (the run would otherwise be lost at the very end)."""
    out, _, _ = _write(tmp_path, n=20)
    monkeypatch.chdir(out)
    with DumpWriter(".", RUN_INFO) as w:
        RISEvaluator(dump=w).process(_records(3))
    assert len(load_dump(out).samples) == 3
    assert sorted(p.name for p in out.parent.iterdir()) == ["full_val"]


def test_a_dump_written_through_a_link_lands_in_its_target(tmp_path):
    out, _, _ = _write(tmp_path, n=20)
    (tmp_path / "latest").symlink_to(out)
    with DumpWriter(tmp_path / "latest", RUN_INFO) as w:
        RISEvaluator(dump=w).process(_records(3))
    assert (tmp_path / "latest").is_symlink() and len(load_dump(out).samples) == 3
    assert sorted(p.name for p in out.parent.iterdir()) == ["full_val"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dumps", "latest"]


def test_a_dump_never_replaces_a_folder_that_is_not_a_dump(tmp_path):
    """`tvnet eval --out dumps` (a folder of dumps) or --out CHECKPOINT must refuse before any
    work, and leave what is there as it was; a file is refused too; an old dump is replaced."""
    out, _, _ = _write(tmp_path, n=5)  # dumps/full_val
    dumps = out.parent
    (dumps / "notes.md").write_text("keep")
    for target in (dumps, out / "samples.parquet", dumps / "notes.md"):
        with pytest.raises(DumpError, match="not a dump|is a file"):
            DumpWriter(target, RUN_INFO)
    assert sorted(p.name for p in dumps.iterdir()) == ["full_val", "notes.md"]
    assert len(load_dump(out).samples) == 5
    assert isinstance(DumpError("x"), ValueError)  # the CLI prints it as a message
    # a training run has a run.json too (and log.jsonl, last/): not a dump either
    run = tmp_path / "runs" / "full"
    (run / "last").mkdir(parents=True)
    (run / "run.json").write_text("{}")
    (run / "log.jsonl").write_text("{}\n")
    with pytest.raises(DumpError, match=r"holds last, log\.jsonl, which a dump does not write"):
        DumpWriter(run, RUN_INFO)
    assert sorted(p.name for p in run.iterdir()) == ["last", "log.jsonl", "run.json"]
    # an old dump with the user's own file inside: refused, the file stays
    (out / "notes.md").write_text("mine")
    with pytest.raises(DumpError, match="holds notes.md"):
        DumpWriter(out, RUN_INFO)
    assert (out / "notes.md").read_text() == "mine"
    (out / "notes.md").unlink()
    (tmp_path / "empty").mkdir()
    with DumpWriter(tmp_path / "empty", RUN_INFO) as w:
        RISEvaluator(dump=w).process(_records(2))
    assert len(load_dump(tmp_path / "empty").samples) == 2


def test_unknown_row_key_is_an_error(tmp_path):
    with DumpWriter(tmp_path / "d") as w:
        with pytest.raises(ValueError, match="bogus"):
            w.write_rows([{"bogus": 1}])
        w.abort()
    assert not (tmp_path / "d").exists()


def test_empty_dump_round_trips(tmp_path):
    with DumpWriter(tmp_path / "e", {"variant": "full"}) as w:
        w.close()
    d = load_dump(tmp_path / "e")
    assert len(d.samples) == 0 and list(d.samples.columns) == list(COLUMNS)
    assert d.run["metrics"]["n"] == 0 and d.run["metrics"]["overall_iou"] is None


def test_broken_dumps_raise_dump_error_naming_the_file(tmp_path):
    good, _, _ = _write(tmp_path, n=12)
    root = good.parent

    missing_run = root / "missing_run"
    missing_run.mkdir()
    (good / "samples.parquet").read_bytes()
    (missing_run / "samples.parquet").write_bytes((good / "samples.parquet").read_bytes())
    with pytest.raises(DumpError, match=r"missing_run/run\.json.*missing"):
        load_dump(missing_run)

    corrupt = root / "corrupt"
    corrupt.mkdir()
    (corrupt / "run.json").write_text("{}")
    (corrupt / "samples.parquet").write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(DumpError, match=r"corrupt/samples\.parquet.*parquet"):
        load_dump(corrupt)

    truncated = root / "truncated"
    truncated.mkdir()
    (truncated / "run.json").write_text("{}")
    data = (good / "samples.parquet").read_bytes()
    (truncated / "samples.parquet").write_bytes(data[: len(data) // 2])
    with pytest.raises(DumpError, match=r"truncated/samples\.parquet"):
        load_dump(truncated)

    cols = root / "missing_cols"
    cols.mkdir()
    (cols / "run.json").write_text("{}")
    df = pd.read_parquet(good / "samples.parquet").drop(columns=["iou", "gt_rle"])
    pq.write_table(pa.Table.from_pandas(df), cols / "samples.parquet")
    with pytest.raises(
        DumpError, match=r"missing_cols/samples\.parquet: missing column\(s\) iou, gt_rle"
    ):
        load_dump(cols)

    bad_json = root / "bad_json"
    bad_json.mkdir()
    (bad_json / "run.json").write_text("{not json")
    with pytest.raises(DumpError, match=r"bad_json/run\.json.*not valid JSON"):
        load_dump(bad_json)

    with pytest.raises(DumpError, match="no such directory"):
        load_dump(root / "nope")

    huge = root / "huge_number"  # JSON whose number passes Python's digit limit: a ValueError
    huge.mkdir()
    (huge / "run.json").write_text('{"n": ' + "9" * 5000 + "}")
    (huge / "samples.parquet").write_bytes(data)
    with pytest.raises(DumpError, match=r"huge_number/run\.json.*not valid JSON"):
        load_dump(huge)

    # fields of the wrong type, which the tables and pages read later, far from the file
    run = json.loads((good / "run.json").read_text())
    damaged = {
        "text_threshold": ({"protocol": {"name": "custom", "threshold": "0.4"}}, "protocol.threshold must be a number"),
        "bool_threshold": ({"protocol": {"name": "custom", "threshold": True}}, "protocol.threshold must be a number"),
        "int_dir": ({"dataset": {"name": "synthref", "data_dir": 5}}, "dataset.data_dir must be a string"),
        "list_train": ({"train": [1]}, "train must be a JSON object"),
    }  # fmt: skip
    for name, (fields, message) in damaged.items():
        shutil.copytree(good, root / name)
        (root / name / "run.json").write_text(json.dumps({**run, **fields}))
        with pytest.raises(DumpError, match=rf"{name}/run\.json: run\.json's {message}"):
            load_dump(root / name)
    # a count of Infinity (which json reads) is no count: the budget is unknown, not an error
    shutil.copytree(good, root / "endless")
    (root / "endless" / "run.json").write_text(
        json.dumps({**run, "train": {"steps": 10, "batch_size": 2}}).replace(
            '"steps": 10', '"steps": Infinity'
        )
    )
    assert load_dump(root / "endless").budget is None

    # load_dumps keeps going: the good dumps, an error naming each bad folder
    (root / ".hidden.tmp").mkdir()  # an unfinished writer's folder is not a dump
    (root / ".hidden.tmp" / "run.json").write_text("{}")
    dumps, errors = load_dumps(root)
    assert sorted(d.path.name for d in dumps) == sorted([good.name, "endless"])
    assert sorted(p.name for p, _ in errors) == sorted(
        ["missing_run", "corrupt", "truncated", "missing_cols", "bad_json", "huge_number",
         *damaged]
    )  # fmt: skip
    assert all(p.name in msg for p, msg in errors)


def test_rows_the_metrics_would_misread_are_refused(tmp_path):
    """mIoU and Prec@X read the stored iou, oIoU the counts, the size columns size_bin, and a
    dump holds run.json's n_samples rows, each sample once: a file that breaks one of these
    loads as an error naming it, not as tables computed on other rows than they say."""
    good, _, _ = _write(tmp_path, n=12)
    rows = pd.read_parquet(good / "samples.parquet")
    assert rows["union"].min() > 0 and (rows["inter"] == 0).any()  # misses whose iou is 0

    def broken(name, df, run_fields=None):
        shutil.copytree(good, tmp_path / name)
        pq.write_table(pa.Table.from_pandas(df, preserve_index=False),
                       tmp_path / name / "samples.parquet")  # fmt: skip
        if run_fields:
            run = json.loads((good / "run.json").read_text())
            (tmp_path / name / "run.json").write_text(json.dumps({**run, **run_fields}))
        return tmp_path / name

    empty = rows.copy()  # nothing predicted, nothing to find: IoU 1, not 0
    empty.loc[0, ["inter", "union", "iou"]] = [0, 0, 0.0]
    with pytest.raises(DumpError, match=r"1 row\(s\) have an iou that is not inter / union"):
        load_dump(broken("empty_as_miss", empty))
    above = rows.copy()
    above.loc[3, "iou"] = 1.3
    with pytest.raises(DumpError, match=r"row 3: iou 1\.3"):
        load_dump(broken("iou_above_one", above))
    ok = rows.copy()
    ok.loc[0, ["inter", "union", "iou"]] = [0, 0, 1.0]
    assert load_dump(broken("empty_as_hit", ok)).samples["iou"].iloc[0] == 1.0

    cased = rows.copy()
    cased.loc[2, "size_bin"] = "Small"
    with pytest.raises(DumpError, match=r"size_bin outside small, medium, big \(first: 'Small'\)"):
        load_dump(broken("size_bin", cased))
    twice = pd.concat([rows, rows.iloc[[5]]], ignore_index=True)
    with pytest.raises(DumpError, match="sample_id 5 appears more than once"):
        load_dump(broken("twice", twice, {"n_samples": 13}))
    with pytest.raises(DumpError, match=r"10 rows, but run\.json records n_samples 12"):
        load_dump(broken("cut", rows.iloc[:10]))
    influence = rows.assign(randnb_inter=rows["inter"], randnb_union=rows["union"])
    influence.loc[4, "randnb_inter"] = influence.loc[4, "randnb_union"] + 1
    with pytest.raises(DumpError, match="randnb_inter > randnb_union"):
        load_dump(broken("influence", influence))
    # rows of another split or variant than run.json's: grouped as one, named as the other
    run = json.loads((good / "run.json").read_text())
    moved = rows.assign(split=[run["split"]] * 11 + ["test" if run["split"] != "test" else "val"])
    with pytest.raises(DumpError, match=r"1 row\(s\) say split '\w+', run\.json says"):
        load_dump(broken("split", moved))
    renamed = rows.assign(variant="res" if run["variant"] != "res" else "full")
    with pytest.raises(DumpError, match=r"12 row\(s\) say variant"):
        load_dump(broken("variant", renamed))
    # a size_bin its gt_area_frac does not fall in: Table 1's Small column counts bins
    binned = rows.assign(gt_area_frac=0.5)
    assert (rows["size_bin"] != "big").any()
    with pytest.raises(DumpError, match=r"size_bin that their gt_area_frac does not fall in"):
        load_dump(broken("bins", binned))
    # fractions outside [0, 1] (confidences × 100, say): a mean confidence of 7,220 %
    scaled = rows.assign(score=0.5, confidence=72.0)
    with pytest.raises(DumpError, match=r"12 row\(s\) have a confidence outside \[0, 1\]"):
        load_dump(broken("percent", scaled))
    measured = rows.assign(score=0.5, confidence=[0.7] * 11 + [float("nan")])  # NaN: unmeasured
    assert load_dump(broken("fractions", measured)).samples["confidence"].isna().sum() == 1
    unnamed = rows.astype({"sample_id": "float64"})
    unnamed.loc[7, "sample_id"] = float("nan")
    with pytest.raises(DumpError, match=r"1 row\(s\) have no sample_id"):
        load_dump(broken("unnamed", unnamed))
    with pytest.raises(DumpError, match=r"n_samples \"abc\" is no count"):
        load_dump(broken("count", rows, {"n_samples": "abc"}))
    # a warm start's damaged step: budgets and row names are summed from the chain
    chain = {"init": {"variant": "baseline", "step": 100, "init": {"step": "q"}}}
    with pytest.raises(DumpError, match=r"init\.init\.step must be a count, got \"q\""):
        load_dump(broken("chain", rows, chain))


def test_load_dumps_on_missing_and_empty_folder(tmp_path):
    dumps, errors = load_dumps(tmp_path / "absent")
    assert dumps == [] and len(errors) == 1 and "not found" in errors[0][1]
    assert load_dumps(tmp_path) == ([], [])


def test_expression_type_is_stored_and_optional_on_read(tmp_path):
    recs = list(_records(6))
    for r, kind in zip(recs, ["attribute", "relation", None, "ordinal", "absolute", "relation"]):
        r["expression_type"] = kind
    with DumpWriter(tmp_path / "typed", RUN_INFO) as w:
        ev = RISEvaluator(variant="full", split="val", dump=w)
        ev.process(recs)
        w.close(metrics=ev.evaluate())
    df = load_dump(tmp_path / "typed").samples
    kinds = [None if pd.isna(k) else k for k in df.expression_type]
    assert kinds == ["attribute", "relation", None, "ordinal", "absolute", "relation"]
    # a dump written before the column existed still loads, with nulls
    old = tmp_path / "old"
    old.mkdir()
    (old / "run.json").write_text((tmp_path / "typed" / "run.json").read_text())
    table = pq.read_table(tmp_path / "typed" / "samples.parquet").drop(["expression_type"])
    pq.write_table(table, old / "samples.parquet")
    back = load_dump(old).samples
    assert list(back.columns) == list(COLUMNS) and back.expression_type.isna().all()
    assert back.drop(columns="expression_type").equals(df.drop(columns="expression_type"))
    narrow = load_dump(old, columns=["sent_id", "expression_type"]).samples
    assert narrow.expression_type.isna().all() and len(narrow) == 6


def test_a_misspelt_column_is_an_error_not_nulls(tmp_path):
    out, _, _ = _write(tmp_path, n=5)
    with pytest.raises(DumpError, match="sent_idd"):
        load_dump(out, columns=["sent_idd"])


READ_WITHOUT_TORCH = """
import sys

import numpy as np

import tvnet

dump = tvnet.load_dump(sys.argv[1])
dumps, errors = tvnet.load_dumps(sys.argv[2])
assert dumps and not errors, errors
row = dump.samples.iloc[0]
mask = tvnet.decode_rle(row.pred_rle, int(row.height), int(row.width))
tvnet.ris_metrics([mask], [np.zeros_like(mask)])
print([d.name for d in (dump, *dumps)])
loaded = sorted(m for m in sys.modules if m == "torch" or m.startswith("torch."))
assert not loaded, loaded
"""


def test_reading_a_dump_does_not_import_torch(tmp_path):
    """tvnet.load_dump / load_dumps / decode_rle / ris_metrics, and the run names (which read a
    warm start's lineage), on a hand-made dump tree and a shipped dump of a grown model."""
    from tests.dumps_fixture import make_dump_tree

    root = make_dump_tree(tmp_path / "dumps", with_images=False)
    shipped = Path(__file__).resolve().parents[2] / "assets" / "dumps" / "full-grown-val"
    assert (shipped / "run.json").is_file()
    r = subprocess.run(
        [sys.executable, "-c", READ_WITHOUT_TORCH, str(shipped), str(root)],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert "full (grown from baseline)" in r.stdout


def test_trust_columns_round_trip_and_older_dumps_read_them_as_nan(tmp_path):
    recs = list(_records(6))
    for k, r in enumerate(recs):
        r.update(score=0.1 * k, confidence=None if k == 2 else 0.5, image_similarity=0.7)
        if r.get("neighbour_image_id") is not None:
            r.update(nogate_inter=3, nogate_union=4, nogate_iou=0.75)
    with DumpWriter(tmp_path / "new", RUN_INFO) as w:
        ev = RISEvaluator(variant="full", split="val", dump=w)
        ev.process(recs)
        w.close(metrics=ev.evaluate())
    df = load_dump(tmp_path / "new").samples
    np.testing.assert_allclose(df.score, [0.1 * k for k in range(6)])
    assert df.confidence.isna().tolist() == [k == 2 for k in range(6)]
    has_nb = df.neighbour_image_id.notna()
    assert (df.nogate_iou[has_nb] == 0.75).all() and df.nogate_iou[~has_nb].isna().all()
    assert df.randnb_iou.isna().all()
    # a dump from before these columns: numeric NaN, so analysis can average what is there
    old = tmp_path / "old"
    old.mkdir()
    (old / "run.json").write_text((tmp_path / "new" / "run.json").read_text())
    table = pq.read_table(tmp_path / "new" / "samples.parquet").drop(TRUST_COLUMNS)
    pq.write_table(table, old / "samples.parquet")
    back = load_dump(old).samples
    assert list(back.columns) == list(COLUMNS)
    for c in TRUST_COLUMNS:
        assert back[c].dtype == np.float64 and back[c].isna().all(), c
    assert back.drop(columns=TRUST_COLUMNS).equals(df.drop(columns=TRUST_COLUMNS))


def test_update_dump_sets_optional_columns_and_keeps_the_rest(tmp_path):
    from tvnet.eval.dump_writer import update_dump

    out, _, _ = _write(tmp_path, n=20)
    table = pq.read_table(out / "samples.parquet").drop(["score", "confidence"])
    pq.write_table(table, out / "samples.parquet")  # as written before the columns existed
    before = load_dump(out)
    conf = [k / 20 for k in range(20)]
    update_dump(out, {"confidence": conf}, {"calibration": {"method": "platt"}})
    after = load_dump(out)
    np.testing.assert_allclose(after.samples.confidence, conf)
    assert after.samples.drop(columns="confidence").equals(
        before.samples.drop(columns="confidence")
    )
    assert after.run["calibration"] == {"method": "platt"}
    assert after.run["metrics"] == before.run["metrics"]
    with pytest.raises(ValueError, match="optional"):
        update_dump(out, {"iou": [0.0] * 20})
    with pytest.raises(ValueError, match="3 values"):
        update_dump(out, {"confidence": [0.1, 0.2, 0.3]})
    assert sorted(p.name for p in out.iterdir()) == ["run.json", "samples.parquet"]  # no temp


def test_dataset_name_and_checkpoint_hash_read_run_json_in_each_of_its_forms(tmp_path):
    out, _, _ = _write(tmp_path, n=5)
    d = load_dump(out)
    # an older dump: the hash under checkpoint_sha256
    assert (d.dataset_name, d.checkpoint_hash) == ("synthref", "abc")
    d.run.update(checkpoint_hash="def", dataset="refcoco+")  # the newer key wins; a bare name
    assert (d.dataset_name, d.checkpoint_hash) == ("refcoco+", "def")
    d.run.pop("checkpoint_hash"), d.run.pop("checkpoint_sha256"), d.run.pop("dataset")
    assert (d.dataset_name, d.checkpoint_hash) == ("unknown", "")
