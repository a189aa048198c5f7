import pytest
import torch

from tvnet import build_model
from tvnet.config import VARIANTS
from tvnet.model.head import tvnet_loss


def _inputs(b=2, s=320, t=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    return dict(
        tokens=torch.randint(2, 20, (b, t), generator=g),
        lengths=torch.tensor([t, 3][:b] + [4] * max(0, b - 2)),
        image=torch.randn(b, 3, s, s, generator=g),
        ref_image=torch.randn(b, 3, s, s, generator=g),
    )


@pytest.fixture(scope="module")
def cpu_models():
    from tvnet.data.tokenize import Vocab

    vocab = Vocab(["<pad>", "<unk>"] + [f"w{i}" for i in range(30)])
    torch.manual_seed(0)
    return {
        v: build_model("cpu", v, vocab=vocab, pretrained=False, text_encoder="glove_lstm")
        for v in VARIANTS
    }


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_cpu_preset_shapes(cpu_models, variant):
    m = cpu_models[variant].eval()
    with torch.no_grad():
        out = m(**_inputs())
    assert out.logits.shape == (2, 1, 320, 320)
    assert out.logits_low.shape == (2, 1, 80, 80)
    if VARIANTS[variant].res:
        # enrich_native: V3 is native at 40×40, V4/V5 attend at their native 20×20; the keys
        # are pooled to at most 20×20 (enrich_key_grid), so V3's 1600 cells attend over 400
        assert [a.shape for a in out.attention] == [(2, 1600, 400)] + [(2, 400, 400)] * 2
        for a in out.attention:
            torch.testing.assert_close(a.sum(-1), torch.ones(2, a.shape[1]))
        assert [g.shape[-1] for g in out.gates] == [40, 20, 20]
        assert all(((g >= 0) & (g <= 1)).all() for g in out.gates)
    else:
        assert out.attention == [] and out.gates == []
    if variant == "full":
        assert out.a2.shape == (2, 1, 80, 80)
        assert ((out.a2 >= 0) & (out.a2 <= 1)).all()
    else:
        assert out.a2 is None
    assert out.aux_logits == []  # training only


def test_baseline_has_no_res_or_amf_parameters_and_never_reads_the_neighbour(cpu_models):
    m = cpu_models["baseline"].eval()
    names = [n for n, _ in m.named_parameters()]
    assert not any(n.startswith(("enrich", "amf", "cct")) for n in names)
    x = _inputs()
    with torch.no_grad():
        a = m(x["tokens"], x["lengths"], image=x["image"])
        b = m(x["tokens"], x["lengths"], image=x["image"], ref_image=torch.randn_like(x["image"]))
    torch.testing.assert_close(a.logits, b.logits)
    full = cpu_models["full"]
    with pytest.raises(ValueError, match="retrieved image"):
        full(x["tokens"], x["lengths"], image=x["image"])


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_gradients_reach_every_trainable_parameter(cpu_models, variant):
    m = cpu_models[variant].train()
    x = _inputs(b=2, s=128, t=4)
    x["lengths"] = torch.tensor([4, 4])
    out = m(**x)
    assert len(out.aux_logits) == 3
    mask = (torch.rand(2, 1, 128, 128) > 0.5).float()
    m.zero_grad()
    tvnet_loss(out.logits, out.aux_logits, mask).backward()
    trainable = [(n, p) for n, p in m.named_parameters() if p.requires_grad]
    assert not any(n.startswith("backbone") for n, _ in trainable)  # frozen in the cpu preset
    dead = [
        n
        for n, p in trainable
        if p.grad is None or (p.grad.abs().sum() == 0 and not n.startswith("text.embed"))
    ]
    assert dead == []
    m.eval()


def test_batch_equals_one_by_one_in_eval(cpu_models):
    m = cpu_models["full"].eval()
    x = _inputs(b=2, s=160)
    with torch.no_grad():
        both = m(**x)
        one = [m(**{k: v[i : i + 1] for k, v in x.items()}) for i in range(2)]
    torch.testing.assert_close(
        both.logits, torch.cat([o.logits for o in one]), atol=1e-4, rtol=1e-4
    )
    torch.testing.assert_close(both.a2, torch.cat([o.a2 for o in one]), atol=1e-5, rtol=1e-4)


def test_features_path_equals_image_path(cpu_models):
    m = cpu_models["res"].eval()
    x = _inputs(b=1, s=160)
    with torch.no_grad():
        a = m(**x)
        b = m(
            x["tokens"],
            x["lengths"],
            feats=m.backbone.extract(x["image"]),
            ref_feats=m.backbone.extract(x["ref_image"]),
        )
    torch.testing.assert_close(a.logits, b.logits)


def test_a_frozen_backbone_keeps_its_batchnorm_statistics_in_training_mode(cpu_models):
    """The model trains with the backbone frozen (and runs it live for mirrored samples and
    uncached images): in training mode its BatchNorm must still use, and never update, its
    running statistics, so its features are the eval-mode ones bit for bit."""
    m = cpu_models["res"]
    bns = [b for b in m.backbone.body.modules() if isinstance(b, torch.nn.BatchNorm2d)]
    assert bns and m.backbone.frozen
    kept = [(b.running_mean.clone(), b.running_var.clone()) for b in bns]  # the fixture's
    for b in bns:  # statistics a batch's own would differ from
        b.running_mean.uniform_(-0.5, 0.5)
        b.running_var.uniform_(0.5, 2.0)
    before = [(b.running_mean.clone(), b.running_var.clone()) for b in bns]
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(1)) * 3 + 1
    try:
        m.eval()
        with torch.no_grad():
            want = m.backbone.extract(x)
        m.train()
        assert not m.backbone.body.training and all(not b.training for b in bns)
        with torch.no_grad():
            got = m.backbone.extract(x)
        for a, b in zip(got, want):
            assert torch.equal(a, b)
        for b, (mean, var) in zip(bns, before):
            assert torch.equal(b.running_mean, mean) and torch.equal(b.running_var, var)
    finally:
        m.eval()
        for b, (mean, var) in zip(bns, kept):
            b.running_mean.copy_(mean)
            b.running_var.copy_(var)


@pytest.mark.parametrize("variant", ["res", "res_cct", "full"])
def test_the_neighbours_v2_is_never_read(cpu_models, variant):
    """The training loader leaves the retrieved image's V2 unread (FeatureCache.get,
    v2=False): no variant may depend on it, in the answer or in the gradients."""
    m = cpu_models[variant].train()
    x = _inputs(b=2, s=160)
    feats = m.backbone.extract(x["image"])
    ref = m.backbone.extract(x["ref_image"])
    grads = []
    for ref_feats in (ref, [None, *ref[1:]], [ref[0] * 7 + 3, *ref[1:]]):
        m.zero_grad()
        torch.manual_seed(0)  # any dropout draws the same
        out = m(x["tokens"], x["lengths"], feats=feats, ref_feats=ref_feats)
        out.logits.sum().backward()
        grads.append(
            (out.logits.detach(), [p.grad.clone() for p in m.parameters() if p.grad is not None])
        )
    m.eval()
    for logits, g in grads[1:]:
        assert torch.equal(logits, grads[0][0])
        assert len(g) == len(grads[0][1]) > 0
        assert all(torch.equal(a, b) for a, b in zip(g, grads[0][1]))


def test_closed_gate_is_the_network_without_enrichment(cpu_models):
    """close_gate=True gives V_l' = V_l^in at every level: the answer no longer depends on the
    retrieved image (none is needed), and equals that of a copy whose enrichment adds
    nothing (W_o = 0, so Eq. 2 adds gate ⊙ 0)."""
    import copy

    for variant in ("res", "full"):
        m = cpu_models[variant].eval()
        x = _inputs(b=2, s=160)
        with torch.no_grad():
            closed = m(**x, close_gate=True)
            other = m(**{**x, "ref_image": torch.randn_like(x["ref_image"])}, close_gate=True)
            alone = m(x["tokens"], x["lengths"], image=x["image"], close_gate=True)
            opened = m(**x)
            silent = copy.deepcopy(m)
            for e in silent.enrich:
                e.proj.weight.zero_()
                e.proj.bias.zero_()
            zero = silent(**x)
        assert closed.attention == [] and closed.gates == []
        torch.testing.assert_close(closed.logits, other.logits, atol=0, rtol=0)
        torch.testing.assert_close(closed.logits, alone.logits, atol=0, rtol=0)
        torch.testing.assert_close(zero.logits, closed.logits, atol=1e-5, rtol=1e-5)
        assert not torch.allclose(opened.logits, closed.logits, atol=1e-4)  # the gate is open


def test_visual_features_serve_many_expressions(cpu_models):
    """visual() does not read the expression: one image's features decoded with B
    expressions equal B forward passes of that image."""
    m = cpu_models["full"].eval()
    x = _inputs(b=3, s=160)
    image, ref = x["image"][:1], x["ref_image"][:1]
    with torch.no_grad():
        feats, ref_feats = m.features(image, ref)
        vis = m.visual(feats, ref_feats)
        many = m.decode(vis, x["tokens"], x["lengths"])
        one = [
            m(x["tokens"][i : i + 1], x["lengths"][i : i + 1], image=image, ref_image=ref)
            for i in range(3)
        ]
    torch.testing.assert_close(
        many.logits, torch.cat([o.logits for o in one]), atol=1e-4, rtol=1e-4
    )
    with pytest.raises(ValueError, match="2 images for 3 expressions"):
        m.decode(
            m.visual(*m.features(x["image"][:2], x["ref_image"][:2])), x["tokens"], x["lengths"]
        )


def test_the_paper_preset_without_its_files_is_refused_not_trained_on_noise(tmp_path):
    """Its backbone checkpoint and GloVe vectors are the user's files: without them a
    pretrained build would freeze a random ResNet-101 and train on noise, without a word."""
    with pytest.raises(ValueError, match=r"backbone_weights .* and model\.word_vectors"):
        build_model("paper", "full")
    with pytest.raises(ValueError, match=r"no file for model\.word_vectors \(GloVe 300d"):
        build_model("paper", "full", backbone_weights=str(tmp_path / "resnet.safetensors"))
    # elsewhere random word vectors are a documented choice (they train): built
    assert build_model("cpu", "baseline", text_encoder="glove_lstm", word_vectors=None)


def test_paper_preset_shapes_small_input():
    torch.manual_seed(0)
    from tvnet.data.tokenize import Vocab

    m = build_model(
        "paper",
        "full",
        vocab=Vocab(["<pad>", "<unk>", "a"]),
        pretrained=False,
        d_s=32,
        d_m=32,
        amf_channels=8,
        fusion_heads=2,
    )
    assert m.backbone.channels == [256, 512, 1024, 2048]
    x = _inputs(b=1, s=64, t=3)
    x["tokens"] = torch.tensor([[2, 2, 2]])
    x["lengths"] = torch.tensor([3])
    with torch.no_grad():
        out = m.eval()(**x)
    assert out.logits.shape == (1, 1, 64, 64)
    assert [a.shape for a in out.attention] == [(1, 64, 64)] * 3  # 8×8 grid at output stride 8
    assert out.a2.shape == (1, 1, 16, 16)


def test_feature_norm_gives_every_cell_unit_rms_and_keeps_direction(cpu_models):
    bb = cpu_models["baseline"].backbone
    g = torch.Generator().manual_seed(0)
    # raw features of very different scales, as EfficientNet-Lite0's un-activated block outputs
    feats = [
        torch.randn(2, c, s, s, generator=g) * scale
        for c, s, scale in zip(bb.channels, (40, 20, 10, 5), (9.0, 8.0, 5.0, 2.0))
    ]
    v2, low = bb.align(feats, grid=20)
    for f in [v2, low[0]]:  # at native resolution: exactly unit RMS
        rms = f.pow(2).mean(dim=1).sqrt()
        torch.testing.assert_close(rms, torch.ones_like(rms))
    for f in low[1:]:  # normalised, then upsampled: blends of unit-RMS cells
        assert f.pow(2).mean(dim=1).sqrt().max() <= 1 + 1e-5
    # same direction as the raw feature in each cell (a positive per-cell rescaling)
    cos = torch.nn.functional.cosine_similarity(v2, feats[0], dim=1)
    torch.testing.assert_close(cos, torch.ones_like(cos))
    bb.feature_norm = False
    try:
        raw_v2, _ = bb.align(feats, grid=20)
    finally:
        bb.feature_norm = True
    assert torch.equal(raw_v2, feats[0])


def test_enrich_native_is_enrichment_before_upsampling(cpu_models):
    """enrich_native=True equals: enrich the native maps, then upsample; False enriches the
    upsampled maps (docs/design.md §2 grid shapes). Same weights, so only the order differs."""
    from tvnet.model.tvnet import TVNet

    native = cpu_models["res"].eval()
    assert native.cfg.enrich_native
    common = native.cfg.replace(enrich_native=False, enrich_key_grid=0)
    grid = TVNet(common, native.vocab, pretrained=False).eval()
    grid.load_state_dict(native.state_dict())
    x = _inputs()
    with torch.no_grad():
        a = native(**x)
        b = grid(**x)
        # by hand: native enrichment of V4, then upsampling
        feats = native.backbone.extract(x["image"])
        ref = native.backbone.extract(x["ref_image"])
        _, low = native.backbone.align(feats, resize=False)
        _, rlow = native.backbone.align(ref, resize=False)
        v4, a4, _ = native.enrich[1](low[1], rlow[1])
    assert [t.shape[-1] for t in b.attention] == [1600] * 3
    torch.testing.assert_close(a.attention[1], a4)
    assert not torch.allclose(a.logits, b.logits)  # the order matters
    assert a4.shape == (2, 400, 400) and v4.shape[-1] == 20
    assert native.backbone.to_grid([v4], 40)[0].shape[-2:] == (40, 40)


def test_convlstm_equals_the_zero_state_formulation():
    """The first step skips the hidden half of the gate conv: same as running it on h = 0."""
    from tvnet.model.fusion import ConvLSTM

    torch.manual_seed(0)
    lstm = ConvLSTM(8).eval()
    seq = [torch.randn(2, 8, 5, 5) for _ in range(3)]
    h = c = torch.zeros(2, 8, 5, 5)
    for x in seq:  # the textbook cell, h and c starting at zero
        i, f, o, g = lstm.norm(lstm.gates(torch.cat([x, h], 1))).chunk(4, 1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
    with torch.no_grad():
        torch.testing.assert_close(lstm(seq), h.detach(), rtol=1e-5, atol=1e-6)


def test_fusion_of_a_coarse_level_equals_fusion_of_its_upsampled_map():
    """BilinearFusion on a level at its native 20×20 grid: conv there, then upsample, which
    equals the conv of the upsampled map (both linear) up to float rounding."""
    from tvnet.model.fusion import BilinearFusion
    from tvnet.model.spatial import spatial_features

    torch.manual_seed(0)
    fuse = BilinearFusion(12, 16, 8)
    v = torch.randn(2, 12, 20, 20)
    o = spatial_features(2, 40, 40)
    s = torch.nn.functional.normalize(torch.randn(2, 16), dim=-1)
    up = torch.nn.functional.interpolate(v, size=(40, 40), mode="bilinear", align_corners=False)
    torch.testing.assert_close(fuse(v, o, s), fuse(up, o, s), atol=1e-5, rtol=1e-4)


def test_full_size_logits_are_the_upsampled_head_logits(cpu_models):
    m = cpu_models["full"].eval()
    with torch.no_grad():
        out = m(**_inputs())
    want = torch.nn.functional.interpolate(
        out.logits_low, size=(320, 320), mode="bilinear", align_corners=False
    )
    assert out.size == 320 and torch.equal(out.logits, want)


def test_the_language_gate_by_hand():
    """Eq. 3's gated exchange on 2-channel 2×2 maps, written out cell by cell: the query
    q = W s attends over each level's cells with softmax(q·m_n / √d), the pooled vector gates
    (σ) what every *other* level sends (ReLU of its 1×1 transform), added to the level."""
    import math

    from tvnet.model.fusion import LanguageGate

    torch.manual_seed(0)
    gate = LanguageGate(d_m=2, d_s=2, levels=3).double()
    c = 3.0
    with torch.no_grad():
        gate.query.weight.copy_(torch.tensor([[c, 0.0], [0.0, 0.0]]))
        gate.query.bias.zero_()
        for lin in gate.gate:
            lin.weight.copy_(torch.eye(2))
            lin.bias.zero_()
        for conv in gate.transform:
            conv.weight.copy_(torch.eye(2)[:, :, None, None])
            conv.bias.zero_()
    ms = [torch.randn(1, 2, 2, 2, dtype=torch.float64) for _ in range(3)]
    s = torch.tensor([[1.0, 0.0]], dtype=torch.float64)  # q = (c, 0)
    with torch.no_grad():
        out = gate(ms, s)
    cells = [[(m[0, :, i, j]).tolist() for i in range(2) for j in range(2)] for m in ms]
    for lvl in range(3):
        logits = [c * v[0] / math.sqrt(2) for v in cells[lvl]]
        z = sum(math.exp(x) for x in logits)
        att = [math.exp(x) / z for x in logits]
        pooled = [sum(a * v[ch] for a, v in zip(att, cells[lvl])) for ch in range(2)]
        g = [1 / (1 + math.exp(-p)) for p in pooled]
        for n in range(4):
            i, j = divmod(n, 2)
            for ch in range(2):
                want = cells[lvl][n][ch] + sum(
                    g[ch] * max(cells[k][n][ch], 0.0) for k in range(3) if k != lvl
                )
                assert math.isclose(
                    float(out[lvl][0, ch, i, j]), want, rel_tol=1e-12, abs_tol=1e-12
                )
