"""The case convention of `[timing] cases`: parameters to (args, kwargs) of random tensors."""

from __future__ import annotations

import torch

from grader.timing import TUPLE_KWARGS
from grader.timing.references import DTYPES


def case_inputs(params: dict, device: str, gen: torch.Generator):
    """(args, kwargs) for one case under the convention in the module docstring."""
    if params.get("dtype", "float32") not in DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(DTYPES)}")
    dtype = DTYPES[params.get("dtype", "float32")]
    args, kwargs = [], {}
    shapes = {}
    for key, value in params.items():
        if key == "dtype":
            continue
        if isinstance(value, list) and key not in TUPLE_KWARGS:
            if not all(type(d) is int and d >= 0 for d in value):
                raise ValueError(f"'{key}' must be a shape: a list of non-negative integers")
            shapes[key] = value
            args.append(torch.randn(*value, generator=gen, dtype=dtype).to(device))
        elif key == "bias" and isinstance(value, bool):
            if value:
                source = shapes.get("weight") or (list(shapes.values())[-1] if shapes else None)
                if not source:
                    raise ValueError("bias = true needs a weight shape before it")
                args.append(torch.randn(source[0], generator=gen, dtype=dtype).to(device))
            else:
                args.append(None)
        elif isinstance(value, list):
            kwargs[key] = tuple(value)
        else:
            kwargs[key] = value
    return args, kwargs
