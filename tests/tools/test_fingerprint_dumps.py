"""tools/fingerprint_dumps.py: an older dump gains its data's fingerprint only when every row
is that data's, and nothing is written when one dump given is not."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from tests.conftest import TINY_MODEL
from tvnet import build_model
from tvnet.eval.dump import load_dump
from tvnet.eval.evaluator import evaluate
from tvnet.eval.rle import decode_rle, encode_rle
from tvnet.loader.batches import SplitTable

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def fingerprint_dumps():
    spec = importlib.util.spec_from_file_location("fingerprint_dumps", ROOT / "tools" / "fingerprint_dumps.py")  # fmt: skip
    mod = importlib.util.module_from_spec(spec)
    sys.modules["fingerprint_dumps"] = mod
    spec.loader.exec_module(mod)
    return mod


def _old_dump(tiny_synthref, out: Path) -> Path:
    """A dump as `tvnet eval` wrote them before 2026-12-07: no fingerprint."""
    from tvnet.data.tokenize import Vocab

    refer = tiny_synthref["refer"]
    torch.manual_seed(0)
    vocab = Vocab.build(s.sentence for s in refer.samples("train"))
    model = build_model("cpu", "baseline", vocab=vocab, **TINY_MODEL).eval()
    table = SplitTable.for_model(refer, "val", model, tiny_synthref["pool"])
    evaluate(model, refer, "val", table, out=out, progress=False)
    run = json.loads((out / "run.json").read_text())
    # what `tvnet eval` recorded of the data before 2026-12-07
    run["dataset"] = {"name": refer.name, "data_dir": str(tiny_synthref["data"]), "split_by": refer.split_by}  # fmt: skip
    (out / "run.json").write_text(json.dumps(run))
    return out


def test_an_old_dump_gains_its_datas_fingerprint_once_its_rows_match(
    fingerprint_dumps, tiny_synthref, tmp_path, capsys
):
    refer = tiny_synthref["refer"]
    good = _old_dump(tiny_synthref, tmp_path / "good")
    rows_before = (good / "samples.parquet").read_bytes()
    # a copy whose one sentence differs: another seed's data, under the same ids
    bad = tmp_path / "bad"
    shutil.copytree(good, bad)
    df = pd.read_parquet(bad / "samples.parquet")
    df.loc[3, "sentence"] = df.loc[3, "sentence"] + " again"
    df.to_parquet(bad / "samples.parquet")
    data = str(tiny_synthref["data"])
    assert fingerprint_dumps.main(["--data", data, str(good), str(bad)]) == 1
    err = capsys.readouterr().err
    assert (
        "nothing written" in err and f"{bad}: sample {df.loc[3, 'sample_id']}: the sentence" in err
    )
    assert not load_dump(good).data_fingerprint  # the good one waits for the bad one
    # a referent of another size is found too (the ground truth, not only the words)
    df = pd.read_parquet(good / "samples.parquet")
    df.loc[0, "gt_area_frac"] = df.loc[0, "gt_area_frac"] + 1e-9
    df.to_parquet(bad / "samples.parquet")
    assert fingerprint_dumps.main(["--data", data, str(bad)]) == 1
    assert "covers another share" in capsys.readouterr().err
    # and a mask of the same size elsewhere: the mask itself is compared
    df = pd.read_parquet(good / "samples.parquet")
    counts, h, w = df.loc[0, "gt_rle"], int(df.loc[0, "height"]), int(df.loc[0, "width"])
    df.loc[0, "gt_rle"] = encode_rle(np.roll(decode_rle(counts, h, w), 1, axis=1))[0]
    df.to_parquet(bad / "samples.parquet")
    assert fingerprint_dumps.main(["--data", data, str(bad)]) == 1
    assert "mask differs" in capsys.readouterr().err
    # no rows: nothing to check, refused
    df.iloc[:0].to_parquet(bad / "samples.parquet")
    run = json.loads((bad / "run.json").read_text())
    (bad / "run.json").write_text(json.dumps({**run, "n_samples": 0}))
    assert fingerprint_dumps.main(["--data", data, str(bad)]) == 1
    assert "no rows to check" in capsys.readouterr().err
    # the good one alone, its dataset recorded as a bare name as the oldest dumps did:
    # fingerprinted, its rows untouched
    run = json.loads((good / "run.json").read_text())
    (good / "run.json").write_text(json.dumps({**run, "dataset": refer.name}))
    assert fingerprint_dumps.main(["--data", data, str(good)]) == 0
    d = load_dump(good)
    assert d.data_fingerprint == refer.fingerprint()
    assert f"rows matched {data}" in d.dataset["fingerprint_checked"]
    assert (good / "samples.parquet").read_bytes() == rows_before
    # again: left as it is; a dump of another fingerprint is refused
    assert fingerprint_dumps.main(["--data", data, str(good)]) == 0
    assert "0 dumps fingerprinted, 1 had it already" in capsys.readouterr().out
    run = json.loads((good / "run.json").read_text())
    run["dataset"]["fingerprint"] = "0" * 64
    (good / "run.json").write_text(json.dumps(run))
    assert fingerprint_dumps.main(["--data", data, str(good)]) == 1
    assert "another fingerprint" in capsys.readouterr().err
    assert fingerprint_dumps.main(["--data", str(tmp_path / "none"), str(good)]) == 2
