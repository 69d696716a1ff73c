"""Per-layer arithmetic of a CNN described as data (see README.md)."""


def plan(layers, input_shape, dtype="float32"):
    """One dict per layer of `layers`, in order, for an input of shape (N, C, H, W).

    layers: a list of dicts, each {"type": "conv" | "maxpool" | "avgpool" | "relu", ...} with
        the keys of README.md (optional keys default as in nn.Conv2d / nn.MaxPool2d;
        a pool's stride defaults to its kernel size). Leave the dicts unchanged.
    input_shape: (N, C, H, W) of ints.
    dtype: "float64", "float32", "float16", "bfloat16" or "int8" (for activation_bytes).

    Each dict has exactly the keys
        "shape": (N, C, H, W) after the layer           (tuple of 4 ints)
        "receptive_field": (rh, rw) in input pixels     (tuple of 2 ints)
        "jump": (jh, jw), the effective stride in input pixels (tuple of 2 ints)
        "params": the layer's parameter count          (int)
        "macs": the layer's multiply-accumulates       (int)
        "activation_bytes": output elements x bytes per element (int)
    Raises ValueError where PyTorch would refuse a layer, and for an unknown type or dtype.
    """
    # TODO: walk the layers keeping (C, H, W), the receptive field and the jump per axis.
    raise NotImplementedError("plan is not implemented yet")
