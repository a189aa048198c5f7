import json

import numpy as np
import pytest
import torch

from tests.conftest import TINY_MODEL
from tvnet import build_model
from tvnet.eval.dump import load_dump
from tvnet.eval.evaluator import evaluate
from tvnet.eval.metrics import aggregate
from tvnet.eval.rle import decode_rle
from tvnet.loader.batches import BatchLoader, SplitTable
from tvnet.loader.features import FeatureCache


@pytest.fixture(scope="module")
def model(tiny_synthref):
    from tvnet.data.tokenize import Vocab

    refer = tiny_synthref["refer"]
    torch.manual_seed(0)
    vocab = Vocab.build(s.sentence for s in refer.samples("train"))
    return build_model("cpu", "full", vocab=vocab, **TINY_MODEL).eval()


def test_dump_rows_recompute_the_metrics(tiny_synthref, model, tmp_path):
    refer = tiny_synthref["refer"]
    table = SplitTable.for_model(refer, "val", model, tiny_synthref["pool"])
    m = evaluate(
        model,
        refer,
        "val",
        table,
        out=tmp_path / "dump",
        run_info={"dataset": {"name": refer.name}},
        progress=False,
        threshold=0.3,
    )
    dump = load_dump(tmp_path / "dump")
    df = dump.samples
    assert len(df) == len(refer.samples("val"))
    agg = aggregate(df)
    for k in ("overall_iou", "mean_iou", "prec@0.5", "n"):
        assert agg[k] == pytest.approx(m[k], abs=0, rel=0) or (np.isnan(agg[k]) and np.isnan(m[k]))
    run = json.loads((tmp_path / "dump" / "run.json").read_text())
    assert run["protocol"]["threshold"] == 0.3 and run["protocol"]["resolution"] == "original"
    # rows are at the original image size and their RLEs reproduce I and U
    for _, r in df.head(4).iterrows():
        s = refer.sample(int(r["sample_id"]))
        h, w = refer.image_size(s.image_id)
        assert (r["height"], r["width"]) == (h, w)
        pred, gt = decode_rle(r["pred_rle"], h, w), decode_rle(r["gt_rle"], h, w)
        np.testing.assert_array_equal(gt, refer.mask(s.ref_id))
        assert (pred & gt).sum() == r["inter"] and (pred | gt).sum() == r["union"]
        assert r["neighbour_image_id"] != s.image_id
    # SynthRef records each sentence's type; the dump keeps it
    assert df["expression_type"].notna().all()
    assert set(df["expression_type"]) <= {"attribute", "relation", "ordinal", "absolute"}
    kinds = {s.sample_id: s.expression_type for s in refer.samples("val")}
    assert all(kinds[int(i)] == k for i, k in zip(df["sample_id"], df["expression_type"]))


def test_cached_features_give_the_same_predictions(tiny_synthref, model, tmp_path):
    refer = tiny_synthref["refer"]
    table = SplitTable.for_model(refer, "val", model, tiny_synthref["pool"])
    cache = FeatureCache(
        tmp_path / "c",
        model.backbone,
        refer,
        model.cfg.input_size,
        model.cfg.output_stride,
        progress=False,
        amp=False,
    )
    cache.ensure("val")
    cache.ensure("train")
    # an untrained model's maps are flat: cut them at a median, so that masks have content
    # (at 0.5 both runs would give the same all-or-nothing masks whatever the cache held)
    loader = BatchLoader(refer, table, model.cfg.input_size, True, None, "cpu")
    with torch.inference_mode():
        t = float(torch.sigmoid(model(**loader.inputs([0])).logits.float()).median())
    kw = dict(progress=False, threshold=t)
    a = evaluate(model, refer, "val", table, out=tmp_path / "a", **kw)
    read, get = [], cache.get  # which images the evaluation took from the cache

    def get_recorded(ids, *args, **kwargs):
        read.extend(int(i) for i in ids)
        return get(ids, *args, **kwargs)

    cache.get = get_recorded
    b = evaluate(model, refer, "val", table, cache=cache, out=tmp_path / "b", **kw)
    val_images = {s.image_id for s in refer.samples("val")}
    neighbour_images = set(load_dump(tmp_path / "b").samples["neighbour_image_id"].astype(int))
    assert val_images | neighbour_images <= set(read)  # every query and neighbour, cached
    rows = load_dump(tmp_path / "a").samples
    assert 0 < (rows["inter"] / rows["union"].clip(lower=1)).mean() < 1  # masks with content
    # the cache stores fp16 features: pixels at the threshold may flip, no more
    assert b["mean_iou"] == pytest.approx(a["mean_iou"], abs=2e-3)  # 3e-7 apart here (fp32 run)
    # a different backbone is a different cache
    other = build_model("cpu", "full", vocab=model.vocab, pretrained=False, **TINY_MODEL)
    c2 = FeatureCache(
        tmp_path / "c",
        other.backbone,
        refer,
        model.cfg.input_size,
        model.cfg.output_stride,
        progress=False,
        amp=False,
    )
    assert c2.dir != cache.dir


def test_input_resolution_protocol_is_labelled(tiny_synthref, model, tmp_path):
    refer = tiny_synthref["refer"]
    table = SplitTable.for_model(refer, "test", model, tiny_synthref["pool"])
    evaluate(
        model, refer, "test", table, out=tmp_path / "d", resolution="input", progress=False, limit=3
    )
    d = load_dump(tmp_path / "d")
    assert len(d.samples) == 3
    assert d.run["protocol"] == {"threshold": 0.5, "resolution": "input", "name": "custom"}
    # the size bin is the referent's share of the image at its own size, as at "original";
    # the masks are scored on the letterboxed content, its padding cut off
    from tvnet.data.transforms import Letterbox, letterbox_mask

    size = model.cfg.input_size
    for _, row in d.samples.iterrows():
        gt = refer.mask(int(row["ref_id"]))
        assert row["gt_area_frac"] == pytest.approx(gt.sum() / gt.size)
        lb = Letterbox.for_shape(gt.shape[0], gt.shape[1], size)
        assert (row["height"], row["width"]) == (lb.new_h, lb.new_w) != (size, size)
        want = letterbox_mask(gt, size)[: lb.new_h, : lb.new_w]
        got = decode_rle(row["gt_rle"], lb.new_h, lb.new_w)
        assert np.array_equal(got, want)
        pred = decode_rle(row["pred_rle"], lb.new_h, lb.new_w)
        assert row["inter"] == np.count_nonzero(pred & want)
        assert row["union"] == np.count_nonzero(pred | want)
    with pytest.raises(ValueError, match="resolution"):
        evaluate(model, refer, "test", table, resolution="weird", progress=False)


def test_mirror_averaged_answers_are_scored_and_labelled(tiny_synthref, model, tmp_path):
    from tvnet.data.mirror import flip_content, mirrored
    from tvnet.data.transforms import Letterbox
    from tvnet.loader.batches import BatchLoader

    refer = tiny_synthref["refer"]
    table = SplitTable.for_model(refer, "val", model, tiny_synthref["pool"])
    # one sample by hand: the flipped content read with the swapped words and the same
    # neighbour, flipped back, averaged with the direct map
    i = next(k for k, x in enumerate(table.samples) if mirrored(x.sentence) != x.sentence)
    s = table.samples[i]
    loader = BatchLoader(refer, table, model.cfg.input_size, True, None, "cpu")
    with torch.inference_mode():
        inputs = loader.inputs([i])
        direct = torch.sigmoid(model(**inputs).logits.float())[0, 0]
        gt = refer.mask(s.ref_id)
        lb = Letterbox.for_shape(gt.shape[0], gt.shape[1], model.cfg.input_size)
        box = [(lb.new_h, lb.new_w)]
        tokens, lengths = model.vocab.encode_batch([mirrored(s.sentence)], model.cfg.max_tokens)
        image = flip_content(inputs["image"], box)
        assert torch.equal(flip_content(image, box), inputs["image"])  # its own inverse
        assert torch.equal(image[0, :, lb.new_h :], inputs["image"][0, :, lb.new_h :])  # padding
        swapped = {"tokens": torch.from_numpy(tokens), "lengths": torch.from_numpy(lengths)}
        other = model(**{**inputs, **swapped, "image": image}).logits
        other = flip_content(torch.sigmoid(other.float()), box)[0, 0]
    average = lb.invert((direct + other) / 2).numpy()
    # an untrained model's maps are flat: cut them at their median, so masks have content
    t = float(np.median(average))
    info = {"dataset": {"name": refer.name}}
    kw = dict(run_info=info, progress=False, threshold=t)
    evaluate(model, refer, "val", table, out=tmp_path / "d0", **kw)
    m = evaluate(model, refer, "val", table, out=tmp_path / "d1", mirror=True, **kw)
    d0, d1 = load_dump(tmp_path / "d0"), load_dump(tmp_path / "d1")
    row = d1.samples[d1.samples["sample_id"] == s.sample_id].iloc[0]
    got = decode_rle(row["pred_rle"], *gt.shape)
    assert 0.2 < got.mean() < 0.8 and (got == (average >= t)).mean() > 0.999
    assert d1.run["protocol"]["mirror"] is True and "mirror" not in d0.run["protocol"]
    assert d1.mirror and not d0.mirror and m["n"] == len(d1.samples)
    # both cut at the median threshold t (a custom protocol, which the row names say)
    assert (
        d1.name == f"full (mirror averaged, threshold {t:g})"
        and d0.name == f"full (threshold {t:g})"
    )
    # the influence columns are of single passes: none with mirror averaging
    assert d0.samples["nogate_iou"].notna().all() and d1.samples["nogate_iou"].isna().all()
    assert d1.run["influence"]["gate_closed"] is False
    # the score (so the confidence) is the direct answer's; the masks are the averages
    np.testing.assert_allclose(d1.samples["score"], d0.samples["score"], atol=1e-6)
    assert (d1.samples["pred_rle"] != d0.samples["pred_rle"]).any()


@pytest.mark.slow
@pytest.mark.parametrize("runtime", ["torch", "onnxruntime"])
def test_eval_cli_on_a_folded_backbone_scores_like_the_model(
    tiny_synthref, model, tmp_path, runtime
):
    """``tvnet eval`` without a feature cache folds the backbone's BatchNorm (and may run it
    on onnxruntime): the same dump as the plain model, up to pixels at the threshold."""
    from tvnet.checkpoint import save_checkpoint
    from tvnet.cli import main as cli_main

    refer = tiny_synthref["refer"]
    # what tvnet train records of its runs (tvnet/record.py): two runs, 120 s in all
    run = {"from_step": 0, "to_step": 300, "wall_s": 90.0, "batch_size": 8, "threads": 2,
           "device": "cpu", "processor": "CPU X", "precision": "fp32", "world_size": 1}  # fmt: skip
    record = {"runs": [run, {**run, "from_step": 300, "to_step": 400, "wall_s": 30.0}],
              "wall_s": 120.0, "samples": 3200, "samples_per_s": 3200 / 120}  # fmt: skip
    ckpt = save_checkpoint(model, tmp_path / "ckpt", extra={"training_time": record})
    table = SplitTable.for_model(refer, "val", model, tiny_synthref["pool"])
    want = evaluate(model, refer, "val", table, progress=False, threshold=0.3, amp=False)
    args = ["eval", "--checkpoint", str(ckpt), "--data", str(tiny_synthref["data"])]
    args += ["--split", "val", "--pool", str(tiny_synthref["pool"]), "--out", str(tmp_path / "d")]
    args += ["--threshold", "0.3", "--no-amp", "--quiet", "--runtime", runtime]
    assert cli_main(args) == 0
    dump = load_dump(tmp_path / "d")
    assert dump.run["backbone_runtime"] == runtime
    # the data it was scored on, by the refs file's hash: another seed's data is another dataset
    import hashlib

    refs = next(tiny_synthref["data"].glob("refs(*).json"))
    assert dump.data_fingerprint == hashlib.sha256(refs.read_bytes()).hexdigest()
    # the dump says how long and where the evaluated weights trained
    assert dump.run["training_time"] == record
    assert dump.training == "2 min at 26.7 samples/s, CPU X, fp32"
    # and where its answers were computed, in what precision (--no-amp: fp32)
    from tvnet.record import cpu_model

    assert dump.scored_on == f"{cpu_model()}, fp32"
    got = dump.samples
    assert len(got) == want["n"]
    assert aggregate(got)["mean_iou"] == pytest.approx(want["mean_iou"], abs=2e-3)
    assert not model.backbone.inference_only  # the CLI loaded its own copy


def test_eval_cli_mirror_writes_a_labelled_dump(tiny_synthref, model, tmp_path, capsys):
    from tvnet.checkpoint import save_checkpoint
    from tvnet.cli import main as cli_main

    ckpt = save_checkpoint(model, tmp_path / "ckpt")
    args = ["eval", "--checkpoint", str(ckpt), "--data", str(tiny_synthref["data"])]
    args += ["--split", "val", "--pool", str(tiny_synthref["pool"]), "--out", str(tmp_path / "d")]
    args += ["--no-amp", "--quiet", "--runtime", "torch", "--limit", "3", "--mirror"]
    assert cli_main(args) == 0
    assert "(n=3, mirror averaged):" in capsys.readouterr().out
    dump = load_dump(tmp_path / "d")
    assert dump.mirror and len(dump.samples) == 3
    # --limit: a part of the split, said in the name (no seed of whole-split runs)
    assert dump.run["split_size"] == 8 and dump.scoring == [
        "mirror averaged",
        "first 3 of 8 samples",
    ]
    assert dump.name == "full (mirror averaged, first 3 of 8 samples)"
    # an --out that holds the dump of another split (a command copied and half edited) is
    # refused before any work; the same evaluation again replaces it, as the build does
    before = (tmp_path / "d" / "samples.parquet").read_bytes()
    other = [a if a != "val" else "test" for a in args]
    assert cli_main(other) == 2
    err = capsys.readouterr().err
    assert "holds the dump of full on synthref/val; this evaluation is full on synthref/test" in err
    assert (tmp_path / "d" / "samples.parquet").read_bytes() == before
    assert cli_main([a if a != "3" else "2" for a in args]) == 0
    assert len(load_dump(tmp_path / "d").samples) == 2


def test_rows_record_score_confidence_and_what_the_neighbour_changed(
    tiny_synthref, model, tmp_path
):
    """Each row has the answer's stability score, its calibrated confidence, the image's
    similarity to the pool, and for RES the masks with the gate closed and with a random
    neighbour: against gt as I/U, against the answer as IoU."""
    import copy

    from tvnet.eval.calibration import Calibration, mask_score
    from tvnet.eval.evaluator import random_neighbours

    refer = tiny_synthref["refer"]
    table = SplitTable.for_model(refer, "val", model, tiny_synthref["pool"])
    pool_ids = np.array(sorted({s.image_id for s in refer.samples("train")}))
    cal = Calibration("platt", {"a": 4.0, "b": -2.0})
    sims = {s.image_id: 0.1 * k for k, s in enumerate(refer.samples("val"))}
    kw = dict(progress=False, calibration=cal, image_similarity=sims, pool_image_ids=pool_ids)
    m = evaluate(model, refer, "val", table, out=tmp_path / "d", **kw)
    df = load_dump(tmp_path / "d").samples
    # without a dump there is nothing to record the reruns in: none run, the answers are the same
    plain = evaluate(model, refer, "val", table, progress=False)
    assert plain["mean_iou"] == pytest.approx(m["mean_iou"], abs=1e-3)
    assert df["score"].between(0, 1).all()
    np.testing.assert_allclose(df["confidence"], cal(df["score"].to_numpy()))
    assert all(sims[i] == v for i, v in zip(df["image_id"], df["image_similarity"]))
    # an empty answer scores 0
    empty = [decode_rle(r, h, w).sum() == 0 for r, h, w in zip(df.pred_rle, df.height, df.width)]
    assert (df.loc[empty, "score"] == 0).all()
    for col in ("nogate_inter", "nogate_union", "randnb_inter", "randnb_union"):
        assert df[col].notna().all()
    assert df["nogate_iou"].between(0, 1).all() and df["randnb_iou"].between(0, 1).all()
    run = load_dump(tmp_path / "d").run
    assert run["influence"] == {"gate_closed": True, "random_neighbour": True, "random_seed": 0}

    # the random neighbours: never the sample's own image, the same draw whatever the batch
    sids = np.array([s.sample_id for s in refer.samples("val")])
    iids = np.array([s.image_id for s in refer.samples("val")])
    a = random_neighbours(sids, iids, pool_ids, seed=0)
    assert (a != iids).all() and set(a) <= set(pool_ids)
    np.testing.assert_array_equal(random_neighbours(sids[3:], iids[3:], pool_ids, 0), a[3:])
    assert not np.array_equal(random_neighbours(sids, iids, pool_ids, seed=1), a)
    # each rerun recomputed by hand: the gate closed on the same inputs, and the drawn pool
    # image as the neighbour, each against the answer and the ground truth. The untrained
    # model's masks hardly move with its neighbour, so a loud copy: enrichment ×20, the
    # head's bias set so that half its logits are positive
    from tvnet.data.transforms import Letterbox
    from tvnet.eval.metrics import iou_counts, sample_iou
    from tvnet.loader.batches import BatchLoader

    loader = BatchLoader(refer, table, model.cfg.input_size, True, None)
    loud = copy.deepcopy(model)
    with torch.no_grad():
        for e in loud.enrich:
            e.proj.weight.mul_(20.0)
            e.proj.bias.mul_(20.0)
        loud.head.net[-1].bias -= loud(
            **loader.inputs([0, 1]), return_attention=False
        ).logits.median()
    evaluate(
        loud, refer, "val", table, out=tmp_path / "loud", progress=False, pool_image_ids=pool_ids
    )
    rows = load_dump(tmp_path / "loud").samples
    assert (rows["sample_id"].to_numpy() == sids).all()

    @torch.no_grad()
    def answer(lb: Letterbox, **kw) -> np.ndarray:
        logits = loud(**kw, return_attention=False).logits
        return lb.invert(torch.sigmoid(logits)[0, 0]).numpy() > 0.5

    for k in range(4):
        gt = refer.mask(table.samples[k].ref_id)
        lb = Letterbox.for_shape(*gt.shape, model.cfg.input_size)
        inputs = loader.inputs([k])
        ans = answer(lb, **inputs)
        shut = answer(lb, **inputs, close_gate=True)
        rand = answer(lb, **dict(inputs, ref_image=loader.images([int(a[k])])))
        row = rows.iloc[k]
        assert row["nogate_iou"] == pytest.approx(sample_iou(*iou_counts(shut, ans)), abs=2e-3)
        assert row["randnb_iou"] == pytest.approx(sample_iou(*iou_counts(rand, ans)), abs=2e-3)
        for name, mask in (("nogate", shut), ("randnb", rand)):
            i, u = iou_counts(mask, gt)
            assert row[f"{name}_inter"] == pytest.approx(i, rel=1e-3, abs=2)
            assert row[f"{name}_union"] == pytest.approx(u, rel=1e-3, abs=2)
    # the checks above tell the reruns apart: both move the loud model's masks, differently
    assert (rows["nogate_iou"].head(4) < 0.99).all() and (rows["randnb_iou"].head(4) < 0.99).any()
    assert not np.allclose(rows["nogate_iou"].head(4), rows["randnb_iou"].head(4), atol=0.01)

    # a model whose enrichment adds nothing (W_o = 0): closing the gate changes no pixel
    silent = copy.deepcopy(model)
    with torch.no_grad():
        for e in silent.enrich:
            e.proj.weight.zero_()
            e.proj.bias.zero_()
    evaluate(silent, refer, "val", table, out=tmp_path / "s", progress=False)
    s = load_dump(tmp_path / "s").samples
    assert (s["nogate_iou"] == 1.0).all()
    assert (s["nogate_inter"] == s["inter"]).all() and (s["nogate_union"] == s["union"]).all()
    assert s["randnb_inter"].isna().all() and s["confidence"].isna().all()  # none asked for
    # the score is the stability score of the answer's own map: recompute one row
    from tvnet.data.transforms import Letterbox
    from tvnet.loader.batches import BatchLoader

    loader = BatchLoader(refer, table, model.cfg.input_size, True, None)
    with torch.no_grad():
        logits = silent(**loader.inputs([0]), return_attention=False).logits
    gt = refer.mask(table.samples[0].ref_id)
    prob = Letterbox.for_shape(*gt.shape, model.cfg.input_size).invert(torch.sigmoid(logits)[0, 0])
    assert s.iloc[0]["score"] == pytest.approx(mask_score(prob.numpy()), abs=1e-2)


def test_baseline_rows_have_no_neighbour_influence(tiny_synthref, tmp_path):
    from tvnet.data.tokenize import Vocab

    refer = tiny_synthref["refer"]
    torch.manual_seed(0)
    vocab = Vocab.build(s.sentence for s in refer.samples("train"))
    base = build_model("cpu", "baseline", vocab=vocab, **TINY_MODEL).eval()
    table = SplitTable.for_model(refer, "val", base, None)
    ids = np.array(sorted({s.image_id for s in refer.samples("train")}))
    evaluate(base, refer, "val", table, out=tmp_path / "b", progress=False, pool_image_ids=ids)
    df = load_dump(tmp_path / "b").samples
    assert df["score"].notna().all()
    for col in ("nogate_iou", "randnb_iou", "nogate_inter", "neighbour_score", "image_similarity"):
        assert df[col].isna().all(), col


def test_eval_cli_refuses_an_unusable_runtime_before_any_work(tmp_path):
    """--runtime onnxruntime where it cannot run (a Python where onnxruntime cannot be
    imported) is refused first, as bad input, not after the checkpoint, the data and the
    neighbours were read: here the checkpoint does not even exist."""
    import subprocess
    import sys

    args = ["eval", "--checkpoint", str(tmp_path / "none"), "--data", str(tmp_path / "none")]
    args += ["--split", "val", "--runtime", "onnxruntime"]
    hide = "import sys; sys.modules['onnxruntime'] = None"  # as if it were not installed
    code = f"{hide}; from tvnet.cli import main; sys.exit(main({args!r}))"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 2, r.stderr
    assert "needs `pip install onnxruntime" in r.stderr and "none" not in r.stderr, r.stderr
