"""The onnxruntime path for frozen networks (tvnet.runtime): same numbers as PyTorch, a disk
cache that is reused, invalidated by new weights and repaired when damaged."""

import copy
import os
import sys

import numpy as np
import pytest
import torch
from torch import nn

from tests.conftest import save_tiny_model
from tvnet import Predictor, build_model
from tvnet.amp import cpu_bf16_supported
from tvnet.runtime import (
    OnnxModule,
    cache_limit_bytes,
    onnxruntime_available,
    prune_cache,
    resolve_runtime,
    try_onnx,
)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TVNET_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "onnx"


def test_onnxruntime_is_installed():
    """It is pinned in requirements.txt: the auto runtime must not silently lose it."""
    assert onnxruntime_available()


def test_runtime_choice(monkeypatch):
    monkeypatch.delenv("TVNET_RUNTIME", raising=False)
    assert resolve_runtime("torch") == "torch"
    assert resolve_runtime("onnxruntime") == "onnxruntime"
    assert resolve_runtime("auto", "cuda") == "torch"  # onnxruntime here is the CPU build
    assert resolve_runtime(None, "cpu") == ("torch" if cpu_bf16_supported() else "onnxruntime")
    assert resolve_runtime(None, "cpu", amp=False) == "onnxruntime"  # no bf16 path to keep
    with pytest.raises(ValueError, match="unknown runtime 'tensorrt'"):
        resolve_runtime("tensorrt")
    with pytest.raises(ValueError, match="CPU only"):
        resolve_runtime("onnxruntime", "cuda")
    monkeypatch.setenv("TVNET_RUNTIME", "torch")
    assert resolve_runtime(None) == "torch"
    monkeypatch.setenv("TVNET_RUNTIME", "onnxruntime")  # a machine-wide setting: GPU jobs
    assert resolve_runtime(None, "cuda") == "torch"  # keep PyTorch
    monkeypatch.setenv("TVNET_RUNTIME", "fast")
    with pytest.raises(ValueError, match="unknown runtime 'fast'"):
        resolve_runtime(None)


class TwoLevels(nn.Module):
    """A stride-2 conv block and a second level: a list of feature maps, like a backbone."""

    def __init__(self):
        super().__init__()
        self.a = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1), nn.BatchNorm2d(8), nn.ReLU6())
        self.b = nn.Conv2d(8, 4, 3, 2, 1, groups=4)

    def forward(self, x):
        y = self.a(x)
        return [y, self.b(y)]


def _net(seed=0):
    torch.manual_seed(seed)
    net = TwoLevels().eval()
    with torch.no_grad():
        net.a[1].running_mean.uniform_(-1, 1)
        net.a[1].running_var.uniform_(0.5, 2)
    return net


def test_onnx_module_matches_torch_and_caches_by_weights(cache):
    net = _net()
    ex = [torch.zeros(2, 3, 32, 32)]
    m = OnnxModule(net, ex, [{0: "batch"}], "two")
    assert m.path.parent == cache and m.path.is_file()
    g = torch.Generator().manual_seed(1)
    for batch in (1, 3):  # any batch; traced with 2
        x = torch.randn(batch, 3, 32, 32, generator=g)
        with torch.no_grad():
            want = net(x)
        got = m(x)
        assert [t.shape for t in got] == [(batch, 8, 16, 16), (batch, 4, 8, 8)]
        for a, b in zip(got, want):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
    assert m.accepts(torch.zeros(5, 3, 32, 32))
    assert not m.accepts(torch.zeros(1, 3, 48, 48))  # spatial size is fixed by the export
    assert not m.accepts(torch.zeros(3, 32, 32))

    inode = m.path.stat().st_ino  # an export replaces the file (temp + rename): a new inode
    again = OnnxModule(net, ex, [{0: "batch"}], "two")  # same weights: read from the cache
    assert again.path == m.path and m.path.stat().st_ino == inode

    other = copy.deepcopy(net)
    with torch.no_grad():
        other.b.weight.mul_(2)
    changed = OnnxModule(other, ex, [{0: "batch"}], "two")  # new weights: a new entry
    assert changed.path != m.path
    x = torch.randn(2, 3, 32, 32, generator=g)
    with torch.no_grad():
        torch.testing.assert_close(changed(x)[1], other(x)[1], rtol=1e-5, atol=1e-5)

    strided = copy.deepcopy(net)  # the same weights, another structure (an output stride)
    strided.b.stride = (1, 1)
    s = OnnxModule(strided, ex, [{0: "batch"}], "two")
    assert s.path != m.path and s(x)[1].shape == (2, 4, 16, 16)


def test_an_edit_to_the_projects_own_forward_code_is_a_new_cache_entry(tmp_path, monkeypatch):
    """Forward code is in neither repr() nor the weights: the fingerprint hashes the code of
    the project's own classes in the graph and of the functions beside them, as loaded. An
    edited and reloaded forward is exported again rather than read back from the cache; an
    edit not yet imported is not what runs, and changes nothing (a package on a temporary
    path stands in for tvnet)."""
    import importlib

    from tvnet import runtime
    from tvnet.folding import FoldedActivation

    pkg = tmp_path / "ownpkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    src = "import torch\n\nclass Act(torch.nn.Module):\n    def forward(self, x):\n"
    (pkg / "act.py").write_text(src + "        return helper(x)\n\ndef helper(x):\n"
                                "        return x.clamp(0, 6)\n")  # fmt: skip
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys, "dont_write_bytecode", True)  # no .pyc of the same second reused
    monkeypatch.setattr(runtime, "OWN_PACKAGES", ("tvnet", "ownpkg"))
    act = importlib.import_module("ownpkg.act")
    shape = [(1, 3, 8, 8)]

    def fp():
        return runtime.fingerprint(nn.Sequential(nn.Conv2d(3, 4, 1), act.Act()), shape)

    torch.manual_seed(0)
    before = fp()
    torch.manual_seed(0)
    assert fp() == before  # stable
    # the helper beside the class edited on disk: nothing runs differently until reloaded
    (pkg / "act.py").write_text(src + "        return helper(x)\n\ndef helper(x):\n"
                                "        return x.clamp(0, 0.5)\n")  # fmt: skip
    torch.manual_seed(0)
    assert fp() == before
    act = importlib.reload(act)
    torch.manual_seed(0)
    assert fp() != before
    # the project's own classes count; torch's do not
    folded = nn.Sequential(nn.Conv2d(3, 4, 1), FoldedActivation(nn.ReLU6()))
    assert runtime.own_code(folded) == [runtime.module_code(sys.modules["tvnet.folding"])]
    assert b"FoldedActivation.forward:" in runtime.own_code(folded)[0]
    assert runtime.own_code(nn.Sequential(nn.Conv2d(3, 4, 1), nn.ReLU6())) == []


def test_a_fresh_export_runs_from_memory_whatever_happens_to_its_file(cache, monkeypatch):
    """Another process's cache pruning may delete the file between its write and its load:
    the export just made runs from its bytes, not from the file (the pruning stands in for
    that other process)."""
    from tvnet import runtime

    def pruned_by_someone_else(folder, limit, keep=None):
        keep.unlink()
        return [keep]

    monkeypatch.setattr(runtime, "prune_cache", pruned_by_someone_else)
    net = _net(3)
    m = OnnxModule(net, [torch.zeros(1, 3, 16, 16)], [{0: "batch"}], "two")
    assert not m.path.exists()
    x = torch.rand(2, 3, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(m(x)[1], net(x)[1], rtol=1e-5, atol=1e-5)


def test_a_damaged_cache_entry_is_exported_again(cache):
    net = _net(2)
    ex = [torch.zeros(2, 3, 16, 16)]
    path = OnnxModule(net, ex, [{0: "batch"}], "two").path
    path.write_bytes(path.read_bytes()[:100])  # an interrupted copy, a full disk …
    repaired = OnnxModule(net, ex, [{0: "batch"}], "two")
    x = torch.rand(1, 3, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(repaired(x)[0], net(x)[0], rtol=1e-5, atol=1e-5)
    assert path.stat().st_size > 1000
    assert not [p for p in cache.iterdir() if p != path]  # no temp file left behind


def test_an_unwritable_cache_still_runs_from_memory(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("TVNET_CACHE", str(blocker / "cache"))
    net = _net(3)
    with pytest.warns(RuntimeWarning, match="cannot cache the ONNX export of two"):
        m = try_onnx(net, [torch.zeros(2, 3, 16, 16)], [{0: "batch"}], "two")
    x = torch.rand(1, 3, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(m(x)[0], net(x)[0], rtol=1e-5, atol=1e-5)


def test_prune_cache_removes_least_recently_used_entries_first(tmp_path):
    sizes = {"a": 300, "b": 200, "c": 100, "d": 400}  # a is the oldest, d the newest
    for age, (name, size) in enumerate(sizes.items()):
        p = tmp_path / f"{name}.onnx"
        p.write_bytes(b"x" * size)
        os.utime(p, (1000 + age, 1000 + age))
    (tmp_path / ".a.onnx.123.tmp").write_bytes(b"x" * 5000)  # an export in progress
    os.utime(tmp_path / "b.onnx", (2000, 2000))  # b was read last: now the newest
    assert prune_cache(tmp_path, 1000) == []  # 1000 bytes fit
    gone = prune_cache(tmp_path, 700)
    assert [p.name for p in gone] == ["a.onnx"]  # 700 left: c + d + b
    gone = prune_cache(tmp_path, 250, keep=tmp_path / "c.onnx")  # c just written: it stays
    assert [p.name for p in gone] == ["d.onnx", "b.onnx"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".a.onnx.123.tmp", "c.onnx"]
    assert prune_cache(tmp_path, 0, keep=tmp_path / "c.onnx") == []
    # the temporary file of an export killed mid-write, an hour on, goes; a young one stays
    os.utime(tmp_path / ".a.onnx.123.tmp", (1000, 1000))
    (tmp_path / ".b.onnx.456.tmp").write_bytes(b"x")
    prune_cache(tmp_path, 1000)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".b.onnx.456.tmp", "c.onnx"]


def test_cache_limit_from_the_environment(monkeypatch):
    monkeypatch.delenv("TVNET_CACHE_MAX_MB", raising=False)
    assert cache_limit_bytes() == 1024 * 2**20
    monkeypatch.setenv("TVNET_CACHE_MAX_MB", "0.5")
    assert cache_limit_bytes() == 2**19
    for bad in ("lots", "inf", "nan", "-1"):  # "inf" and "nan" parse as floats
        monkeypatch.setenv("TVNET_CACHE_MAX_MB", bad)
        with pytest.warns(RuntimeWarning, match="not a size in MB; using 1024"):
            assert cache_limit_bytes() == 1024 * 2**20


def test_an_export_evicts_the_least_recently_used_entry(cache, monkeypatch):
    ex = [torch.zeros(2, 3, 16, 16)]
    first = OnnxModule(_net(4), ex, [{0: "batch"}], "two").path
    second = OnnxModule(_net(5), ex, [{0: "batch"}], "two").path
    os.utime(first, (1000, 1000))
    os.utime(second, (2000, 2000))
    OnnxModule(_net(4), ex, [{0: "batch"}], "two")  # a cache hit marks first as used
    assert first.stat().st_mtime > second.stat().st_mtime
    size = first.stat().st_size  # the three entries are the same graph: about one size each
    monkeypatch.setenv("TVNET_CACHE_MAX_MB", str(2.5 * size / 2**20))
    third = OnnxModule(_net(6), ex, [{0: "batch"}], "two").path
    assert sorted(cache.iterdir()) == sorted([first, third])  # second was the least recent


class DataDependent(nn.Module):
    def forward(self, x):
        return x * 2 if bool(x.sum() > 0) else x  # branches on values: no static graph


def test_a_module_that_cannot_export_stays_in_pytorch(cache):
    with pytest.warns(RuntimeWarning, match="odd stays in PyTorch"):
        assert try_onnx(DataDependent(), [torch.ones(2, 3)], [{0: "batch"}], "odd") is None


@pytest.mark.slow
def test_backbone_on_onnxruntime_gives_the_torch_features(cache):
    torch.manual_seed(0)
    from tvnet.data.tokenize import Vocab

    model = build_model(
        "cpu",
        "full",
        vocab=Vocab(["<pad>", "<unk>", "a"]),
        input_size=96,
        text_encoder="glove_lstm",
    )
    ref = copy.deepcopy(model.backbone).optimize_for_inference("torch")
    fast = model.backbone.optimize_for_inference("onnxruntime")
    assert fast.onnx is not None and ref.onnx is None
    g = torch.Generator().manual_seed(0)
    for shape in ((2, 3, 96, 96), (1, 3, 96, 96), (1, 3, 64, 64)):  # 64²: not exported, torch
        x = torch.randn(*shape, generator=g)
        with torch.no_grad():
            for a, b in zip(fast.extract(x), ref.extract(x)):
                assert a.shape == b.shape
                torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4 * b.abs().max().item())


@pytest.mark.slow
def test_retrieval_encoders_on_onnxruntime_give_the_torch_vectors(cache):
    from tvnet.retrieval.image_encoder import ImageEncoder
    from tvnet.retrieval.text_encoder import TextEncoder

    sentences = ["the red circle", "a", "the third object from the left, next to the " * 6]
    slow, fast = TextEncoder(batch_size=2), TextEncoder(batch_size=2, runtime="onnxruntime")
    assert fast.onnx is not None
    a, b = fast.encode(sentences), slow.encode(sentences)
    np.testing.assert_allclose(a, b, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1, atol=1e-5)

    rng = np.random.default_rng(0)
    images = [rng.integers(0, 255, (40 + 9 * i, 57, 3), dtype=np.uint8) for i in range(3)]
    slow = ImageEncoder(input_size=64, batch_size=2, amp=False)
    fast = ImageEncoder(input_size=64, batch_size=2, runtime="onnxruntime")
    np.testing.assert_allclose(fast.encode(images), slow.encode(images), atol=1e-4)


@pytest.mark.slow
def test_predictor_answers_the_same_on_both_runtimes(tiny_synthref, tmp_path, cache):
    refer = tiny_synthref["refer"]
    ckpt = save_tiny_model(refer, "full", tmp_path / "full")
    # fp32 on both sides: onnxruntime runs the frozen networks in fp32, so PyTorch's side must
    # too (amp=False), else a bf16 CPU compares bf16 with fp32 (A_l then differs by ~2e-3).
    kw = dict(device="cpu", pool_images=tiny_synthref["data"] / "images", amp=False)
    ort = Predictor.from_checkpoint(ckpt, tiny_synthref["pool"], runtime="onnxruntime", **kw)
    pt = Predictor.from_checkpoint(ckpt, tiny_synthref["pool"], runtime="torch", **kw)
    assert (ort.info["runtime"], pt.info["runtime"]) == ("onnxruntime", "torch")
    assert (ort.info["text_runtime"], pt.info["text_runtime"]) == ("onnxruntime", "torch")
    for s in refer.samples("val")[:3]:
        img = refer.load_image(s.image_id)
        a, b = ort(img, s.sentence), pt(img, s.sentence)
        assert a.neighbour.index == b.neighbour.index
        np.testing.assert_allclose(a.prob, b.prob, atol=1e-3)
        for x, y in zip(a.attention, b.attention):
            np.testing.assert_allclose(x, y, atol=1e-3)
