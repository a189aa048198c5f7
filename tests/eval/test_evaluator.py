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
from tvnet.train.batches import SplitTable
from tvnet.train.features import FeatureCache


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
    a = evaluate(model, refer, "val", table, progress=False)
    b = evaluate(model, refer, "val", table, cache=cache, progress=False)
    assert b["mean_iou"] == pytest.approx(a["mean_iou"], abs=0.03)
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
    with pytest.raises(ValueError, match="resolution"):
        evaluate(model, refer, "test", table, resolution="weird", progress=False)


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
    ckpt = save_checkpoint(model, tmp_path / "ckpt")
    table = SplitTable.for_model(refer, "val", model, tiny_synthref["pool"])
    want = evaluate(model, refer, "val", table, progress=False, threshold=0.3, amp=False)
    args = ["eval", "--checkpoint", str(ckpt), "--data", str(tiny_synthref["data"])]
    args += ["--split", "val", "--pool", str(tiny_synthref["pool"]), "--out", str(tmp_path / "d")]
    args += ["--threshold", "0.3", "--no-amp", "--quiet", "--runtime", runtime]
    assert cli_main(args) == 0
    dump = load_dump(tmp_path / "d")
    assert dump.run["backbone_runtime"] == runtime
    got = dump.samples
    assert len(got) == want["n"]
    assert aggregate(got)["mean_iou"] == pytest.approx(want["mean_iou"], abs=2e-3)
    assert not model.backbone.inference_only  # the CLI loaded its own copy
