"""Public sample tests: a few examples, not the hidden checks."""

import pytest

from cnn_plan import plan

STEM = [
    {"type": "conv", "out_channels": 64, "kernel_size": 7, "stride": 2, "padding": 3, "bias": False},
    {"type": "relu"},
    {"type": "maxpool", "kernel_size": 3, "stride": 2, "padding": 1},
]


def test_resnet_stem():
    conv, relu, pool = plan(STEM, (1, 3, 224, 224))
    assert conv == {"shape": (1, 64, 112, 112), "receptive_field": (7, 7), "jump": (2, 2),
                    "params": 9408, "macs": 118013952, "activation_bytes": 3211264}
    assert relu["shape"] == (1, 64, 112, 112) and relu["params"] == relu["macs"] == 0
    assert pool == {"shape": (1, 64, 56, 56), "receptive_field": (11, 11), "jump": (4, 4),
                    "params": 0, "macs": 0, "activation_bytes": 802816}


def test_half_precision_halves_the_memory():
    assert plan(STEM, (1, 3, 224, 224), dtype="float16")[0]["activation_bytes"] == 1605632


def test_pool_stride_defaults_to_kernel():
    (out,) = plan([{"type": "maxpool", "kernel_size": 2}], (2, 3, 10, 10))
    assert out["shape"] == (2, 3, 5, 5) and out["jump"] == (2, 2)


def test_kernel_too_large():
    with pytest.raises(ValueError):
        plan([{"type": "conv", "out_channels": 1, "kernel_size": 5}], (1, 1, 4, 4))
