import torch

from grader import harness as h


def _expected(x):
    return torch.where(x > 0, x, torch.zeros((), dtype=x.dtype))


def test_relu_values():
    """relu values"""
    x = h.randn(64, 33)
    x[0, :4] = torch.tensor([-1.0, 0.0, 2.0, -3.0])
    expected = _expected(x)
    got = h.call(h.candidate("timed").relu, x.clone())
    h.assert_close(got, expected, call=h.last_call())


def test_relu_dtype():
    """relu keeps float64"""
    x = h.randn(5, dtype=torch.float64)
    x[0], x[1] = -1.5, 2.5
    expected = _expected(x)
    got = h.call(h.candidate("timed").relu, x.clone())
    h.assert_close(got, expected, call=h.last_call())


def test_relu_large():
    """relu on a timing-sized tensor"""
    x = h.randn(1024, 2048)
    expected = _expected(x)
    got = h.call(h.candidate("timed").relu, x.clone())
    h.assert_close(got, expected, call=h.last_call())
