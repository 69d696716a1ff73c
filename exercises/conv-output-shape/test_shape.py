"""Public sample tests: a few examples, not the hidden checks."""

import pytest

from shape import conv2d_output_shape


def test_resnet_stem():
    assert conv2d_output_shape(224, 7, stride=2, padding=3) == (112, 112)


def test_same_padding_keeps_size():
    assert conv2d_output_shape((32, 20), (3, 5), padding="same") == (32, 20)


def test_dilation():
    assert conv2d_output_shape(10, 3, dilation=2) == (6, 6)


def test_kernel_too_large():
    with pytest.raises(ValueError):
        conv2d_output_shape(3, 5)
