import pytest
import torch

from tvnet import build_model
from tvnet.data.tokenize import Vocab
from tvnet.model.grow import add_adapter, can_grow, grow, growth_targets
from tvnet.model.head import tvnet_loss


def _batch(m, b=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        feats = m.backbone.extract(torch.randn(b, 3, 320, 320, generator=g))
        ref = m.backbone.extract(torch.randn(b, 3, 320, 320, generator=g))
    tokens = torch.randint(2, 20, (b, 7), generator=g)
    return dict(tokens=tokens, lengths=torch.tensor([7, 4]), feats=feats, ref_feats=ref)


@pytest.fixture(scope="module")
def trained():
    """Small variants with every weight moved off its initialisation (as training would),
    so that a zero or identity left where it should not be would change the output."""
    vocab = Vocab(["<pad>", "<unk>"] + [f"w{i}" for i in range(30)])
    torch.manual_seed(0)
    out = {}
    for v in ("baseline", "res"):
        m = build_model("cpu", v, vocab=vocab, pretrained=False, text_encoder="glove_lstm")
        with torch.no_grad():
            for name, p in m.named_parameters():
                if not name.startswith("backbone."):
                    p.add_(0.05 * torch.randn_like(p))
        out[v] = m.eval()
    return out


@pytest.mark.parametrize(
    "source,target",
    [
        ("baseline", "res"),
        ("baseline", "res_cct"),
        ("baseline", "full"),
        ("res", "res_cct"),
        ("res", "full"),
    ],
)
def test_grown_network_computes_what_the_source_did(trained, source, target):
    src = trained[source]
    x = _batch(src)
    with torch.no_grad():
        want = src(**x, return_attention=False)
        big = grow(src, target).eval()
        got = big(**x, return_attention=False)
    assert big.cfg.variant == target and big.cfg.replace(variant=source) == src.cfg
    assert big.vocab.words == src.vocab.words
    # exactly: x + 0·y and [I | 0]·[x; y] are x in floating point too
    assert torch.equal(got.logits, want.logits) and torch.equal(got.logits_low, want.logits_low)
    # every shared weight is the source's
    shared = src.state_dict()
    for k, v in big.state_dict().items():
        if k in shared:
            assert torch.equal(v, shared[k]), k
    # the source is untouched
    assert src.cfg.variant == source


def test_added_modules_learn_from_the_first_step(trained):
    big = grow(trained["baseline"], "full")
    x = _batch(big, seed=1)
    mask = torch.zeros(2, 1, 320, 320)
    mask[:, :, 100:180, 60:140] = 1
    out = big(**x)
    tvnet_loss(out.logits, out.aux_logits, mask, w_dice=1.0).backward()
    # the zero blocks get gradients at once: enrichment's W_o, AMF's V2' half of the last conv
    for e in big.enrich:
        assert e.proj.weight.grad.abs().sum() > 0
    d_m = big.cfg.d_m
    assert big.amf.out.weight.grad[:, d_m:].abs().sum() > 0
    # behind them nothing moves yet (their input is multiplied by a zero weight)
    assert big.enrich[0].theta.weight.grad.abs().sum() == 0
    assert big.amf.intensity.weight.grad.abs().sum() == 0
    opt = torch.optim.SGD(big.parameters(), lr=0.1)
    opt.step()
    opt.zero_grad()
    out = big(**x)
    tvnet_loss(out.logits, out.aux_logits, mask, w_dice=1.0).backward()
    assert big.enrich[0].theta.weight.grad.abs().sum() > 0
    assert big.amf.intensity.weight.grad.abs().sum() > 0


def test_only_growth_is_allowed(trained):
    assert growth_targets("baseline") == ["res", "res_cct", "full"]
    assert growth_targets("res") == ["res_cct", "full"]
    assert growth_targets("full") == [] and growth_targets("res_cct") == []
    assert not can_grow("res_cct", "full") and not can_grow("baseline", "baseline")
    full = grow(trained["res"], "full")
    for target in ("baseline", "res", "res_cct"):
        with pytest.raises(ValueError, match="cannot grow"):
            grow(full, target)


def test_an_added_visual_adapter_starts_as_the_identity_and_learns(trained):
    src = trained["res"]
    x = _batch(src, seed=2)
    with torch.no_grad():
        want = src(**x, return_attention=False)
        big = add_adapter(src, 16).eval()
        got = big(**x, return_attention=False)
    assert big.cfg == src.cfg.replace(visual_adapter=16) and src.adapter is None
    # x + 0·y is x in floating point: the same logits, bit for bit
    assert torch.equal(got.logits_low, want.logits_low)
    with pytest.raises(ValueError, match="already has"):
        add_adapter(big, 16)
    # one adapter for the query and the retrieved image: both pass through its V4 and V5
    # blocks (the backbone stays siamese), V2 and V3 are not touched
    big.train()
    seen = []
    hooks = [
        b.register_forward_hook(lambda m, i, o: seen.append(i[0].shape)) for b in big.adapter.levels
    ]
    out = big(**x)
    for h in hooks:
        h.remove()
    assert len(seen) == 4 and [s[1] for s in seen] == [c for c in big.backbone.channels[2:]] * 2
    mask = torch.zeros(2, 1, 320, 320)
    mask[:, :, 100:180, 60:140] = 1
    tvnet_loss(out.logits, out.aux_logits, mask, w_dice=1.0).backward()
    for b in big.adapter.levels:  # the zero output conv gets a gradient from the first step
        assert b.up.weight.grad.abs().sum() > 0


def test_init_grows_an_adapter_onto_a_checkpoint_without_one(trained, tmp_path):
    from tvnet.checkpoint import save_checkpoint
    from tvnet.warmstart import init_record, load_init

    src = trained["baseline"]
    save_checkpoint(src, tmp_path / "ckpt")
    x = _batch(src, seed=3)
    model = load_init(tmp_path / "ckpt", src.cfg.replace(visual_adapter=8)).eval()
    assert model.adapter is not None and model.cfg.visual_adapter == 8
    # run.json's init record says so; a run without an adapter records nothing of the kind
    assert init_record(tmp_path / "ckpt", "baseline", 8)["adapter_added"] == 8
    assert "adapter_added" not in init_record(tmp_path / "ckpt", "baseline")
    with torch.no_grad():
        assert torch.equal(
            model(**x, return_attention=False).logits_low,
            src(**x, return_attention=False).logits_low,
        )


def test_an_adapter_grows_with_its_network_when_res_enriches_on_the_common_grid():
    """With enrich_native off, RES works on V4/V5 upsampled to V3's grid; the adapter still
    runs at each level's native grid, so a baseline with an adapter grown into res computes
    what it did (up to the rounding of upsampling before or after the fusion's 1×1 conv)."""
    vocab = Vocab(["<pad>", "<unk>"] + [f"w{i}" for i in range(30)])
    torch.manual_seed(0)
    src = build_model(
        "cpu",
        "baseline",
        vocab=vocab,
        pretrained=False,
        text_encoder="glove_lstm",
        enrich_native=False,
        visual_adapter=8,
    )
    with torch.no_grad():
        for name, p in src.named_parameters():
            if not name.startswith("backbone."):
                p.add_(0.05 * torch.randn_like(p))
    src.eval()
    x = _batch(src, seed=4)
    with torch.no_grad():
        want = src(**x, return_attention=False).logits_low
        big = grow(src, "res").eval()
        got = big(**x, return_attention=False).logits_low
    assert big.cfg.visual_adapter == 8 and not big.cfg.enrich_native
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)
