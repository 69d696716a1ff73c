"""Public sample tests: a few examples, not the hidden checks."""

import torch

from siamese import SiameseEncoder


def test_shapes():
    m = SiameseEncoder(3, 8)
    za, zb, dist = m(torch.randn(4, 3, 10, 10), torch.randn(4, 3, 10, 10))
    assert za.shape == zb.shape == (4, 8) and dist.shape == (4,)


def test_same_input_same_embedding():
    m = SiameseEncoder(3, 8)
    x = torch.randn(2, 3, 6, 6)
    za, zb, dist = m(x, x.clone())
    assert torch.allclose(za, zb) and torch.allclose(dist, torch.zeros(2), atol=1e-6)


def test_parameters_counted_once():
    m = SiameseEncoder(3, 8)
    assert sum(p.numel() for p in m.parameters()) == 3 * 8 * 3 * 3 + 8 + 8 * 8 + 8
    assert set(m.state_dict()) == {"conv.weight", "conv.bias", "proj.weight", "proj.bias"}


def test_both_branches_reach_the_weight():
    m = SiameseEncoder(3, 8)
    za, zb, _ = m(torch.randn(2, 3, 6, 6), torch.randn(2, 3, 6, 6))
    za.sum().backward()
    only_a = m.conv.weight.grad.clone()
    m.zero_grad()
    za, zb, _ = m(torch.randn(2, 3, 6, 6), torch.randn(2, 3, 6, 6))
    zb.sum().backward()
    assert m.conv.weight.grad is not None and only_a.abs().sum() > 0
