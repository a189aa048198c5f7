"""Suite-wide settings: nothing may download; modest threads on 2-core machines."""

import atexit
import os
import shutil
import tempfile


def _throwaway(prefix: str) -> str:
    """A new temporary folder, removed with everything in it when the test run exits."""
    path = tempfile.mkdtemp(prefix=prefix)
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("STREAMLIT_BROWSER_GATHER_USAGE_STATS", "false")
# Every temporary file of the run (pytest's tmp_path folders, the servers the tests start,
# gradio_client, which leaves an empty folder in the temp dir per download) goes to one
# folder removed at exit, so the suite leaves nothing loose in /tmp.
if "TVNET_TEST_TMPDIR" not in os.environ:
    _tmp = _throwaway("tvnet-tests-")
    os.environ["TVNET_TEST_TMPDIR"] = os.environ["TMPDIR"] = tempfile.tempdir = _tmp
# PyTorch for the frozen networks unless a test asks for onnxruntime (tests/test_runtime.py):
# every new set of weights would otherwise cost a 10–20 s ONNX export. Exports a test makes
# go to a throw-away cache, never to the user's ~/.cache/tvnet.
os.environ.setdefault("TVNET_RUNTIME", "torch")
if "TVNET_CACHE" not in os.environ:
    os.environ["TVNET_CACHE"] = _throwaway("tvnet-test-cache-")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(2)


@pytest.fixture
def small_vocab():
    from tvnet.data.tokenize import Vocab

    return Vocab.build(
        ["the red circle on the left", "a small green star", "blue square", "the big triangle"]
    )


@pytest.fixture(scope="session")
def tiny_synthref(tmp_path_factory):
    """A tiny SynthRef (24/8/8 expressions) with a retrieval pool and neighbour tables."""
    from tvnet.data.refer import open_refer
    from tvnet.data.synthref import generate
    from tvnet.retrieval.image_encoder import ImageEncoder
    from tvnet.retrieval.neighbours import (
        build_pool,
        neighbour_table,
        neighbours_path,
        write_neighbours,
    )
    from tvnet.retrieval.text_encoder import TextEncoder

    root = tmp_path_factory.mktemp("synthref")
    data = generate(root / "data", seed=3, train=24, val=8, test=8, workers=1, progress=False)
    refer = open_refer(data)
    te, ie = TextEncoder(), ImageEncoder()
    pool = build_pool(refer, "train", te, ie, progress=False)
    pool_dir = root / "pool"
    pool.save(pool_dir)
    for split in ("train", "val", "test"):
        df = neighbour_table(refer, split, pool, te, ie, progress=False)
        write_neighbours(df, neighbours_path(pool_dir, refer.name, split))
    return {"data": Path(data), "pool": pool_dir, "refer": refer}


# a word-vocabulary (GloVe + LSTM) model: small and quick; the cpu preset's MiniLM text encoder
# has its own tests (tests/model/test_hf_text.py, tests/train/test_train.py)
TINY_MODEL = {
    "input_size": 64,
    "d_s": 16,
    "d_m": 16,
    "amf_channels": 8,
    "text_encoder": "glove_lstm",
}


def save_tiny_model(refer, variant: str, path: Path, seed: int = 0) -> Path:
    """A tiny untrained ``variant`` on ``refer``'s training vocabulary, saved as a checkpoint."""
    from tvnet import build_model
    from tvnet.checkpoint import save_checkpoint
    from tvnet.data.tokenize import Vocab

    torch.manual_seed(seed)
    vocab = Vocab.build(s.sentence for s in refer.samples("train"))
    return save_checkpoint(build_model("cpu", variant, vocab=vocab, **TINY_MODEL), path)


def give_content(predictors, image, expression) -> None:
    """Make tiny untrained ``full`` predictors (one checkpoint, loaded once each) answer with
    content, alike: their maps are flat, a mask of all or nothing at the 0.5 threshold, where
    any two masks agree. The enrichment's output is made large (the neighbour matters) and the
    head's bias moves the median probability on ``image`` to the threshold (about half of it
    is in the mask)."""
    import numpy as np
    import torch

    with torch.no_grad():
        for p in predictors:
            for e in p.model.enrich:
                e.proj.weight.normal_(0, 2.0, generator=torch.Generator().manual_seed(0))
        median = float(np.median(predictors[0](image, expression).prob))
        for p in predictors:
            p.model.head.net[-1].bias -= float(np.log(median / (1 - median)))
    mask = predictors[0](image, expression).mask
    assert 0.2 < mask.mean() < 0.8, mask.mean()
