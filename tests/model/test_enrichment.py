import torch

from tvnet.model.enrichment import Enrichment


def test_attention_rows_sum_to_one_and_shapes():
    torch.manual_seed(0)
    e = Enrichment(16)
    v_in, v_sim = torch.randn(2, 16, 5, 6), torch.randn(2, 16, 5, 6)
    out, a, g = e(v_in, v_sim)
    assert out.shape == v_in.shape and g.shape == v_in.shape
    assert a.shape == (2, 30, 30)
    torch.testing.assert_close(a.sum(-1), torch.ones(2, 30))
    assert (a >= 0).all() and (g >= 0).all() and (g <= 1).all()


def test_fused_training_path_equals_explicit_path():
    torch.manual_seed(1)
    e = Enrichment(12)
    v_in, v_sim = torch.randn(3, 12, 4, 4), torch.randn(3, 12, 4, 4)
    a, attn, _ = e(v_in, v_sim, return_attention=True)
    b, none, _ = e(v_in, v_sim, return_attention=False)
    assert none is None
    torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


def test_hand_computed_uniform_attention():
    # θ ≡ 0 → every query attends uniformly; v_sim' = proj(mean over positions of g(v_sim))
    torch.manual_seed(2)
    e = Enrichment(8)
    with torch.no_grad():
        e.theta.weight.zero_()
        e.theta.bias.zero_()
    v_in, v_sim = torch.randn(1, 8, 3, 3), torch.randn(1, 8, 3, 3)
    out, a, g = e(v_in, v_sim)
    torch.testing.assert_close(a, torch.full((1, 9, 9), 1 / 9))
    mean_g = e.g(v_sim).mean(dim=(2, 3), keepdim=True)
    expect = v_in + torch.sigmoid(e.gate(v_in)) * e.proj(mean_g).expand_as(v_in)
    torch.testing.assert_close(out, expect, atol=1e-5, rtol=1e-5)


def test_untrained_gate_lets_little_through():
    e = Enrichment(32)
    _, _, g = e(torch.zeros(1, 32, 4, 4), torch.zeros(1, 32, 4, 4))
    torch.testing.assert_close(g, torch.full_like(g, torch.sigmoid(torch.tensor(-2.0)).item()))


def test_attention_follows_the_retrieved_content():
    # with identity-like projections a query attends most to the retrieved cell that matches it
    e = Enrichment(4)
    with torch.no_grad():
        for conv in (e.theta, e.phi):
            conv.weight.zero_()
            conv.bias.zero_()
            conv.weight[0, 0] = 10.0
            conv.weight[1, 1] = 10.0
    v_in = torch.zeros(1, 4, 1, 2)
    v_in[0, 0, 0, 0] = 1  # query cell 0 is "channel 0"
    v_in[0, 1, 0, 1] = 1  # query cell 1 is "channel 1"
    v_sim = v_in.flip(-1)  # retrieved: cell 0 is channel 1, cell 1 is channel 0
    _, a, _ = e(v_in, v_sim)
    assert a[0].argmax(-1).tolist() == [1, 0]


def test_pooled_keys_attend_over_the_max_pooled_grid():
    """key_grid: φ(v_sim) and g(v_sim) max-pooled to k×k (Non-local subsampling); by hand
    for one query row, and a level no larger than k is left as it is."""
    torch.manual_seed(3)
    e = Enrichment(8, key_grid=2)
    v_in, v_sim = torch.randn(1, 8, 4, 4), torch.randn(1, 8, 4, 4)
    out, a, _ = e(v_in, v_sim)
    assert a.shape == (1, 16, 4)
    torch.testing.assert_close(a.sum(-1), torch.ones(1, 16))
    k = torch.nn.functional.max_pool2d(e.phi(v_sim), 2).flatten(2)[0]  # C/2 × 4
    q0 = e.theta(v_in).flatten(2)[0, :, 0]  # the first query cell
    torch.testing.assert_close(a[0, 0], torch.softmax(q0 @ k * e.scale, -1))
    fused, none, _ = e(v_in, v_sim, return_attention=False)
    assert none is None
    torch.testing.assert_close(fused, out, atol=1e-5, rtol=1e-5)
    same = Enrichment(8, key_grid=4)
    same.load_state_dict(e.state_dict())
    plain = Enrichment(8)
    plain.load_state_dict(e.state_dict())
    assert torch.equal(same(v_in, v_sim)[1], plain(v_in, v_sim)[1])
