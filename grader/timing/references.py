"""PyTorch's side of every timed case, captured at import, before any candidate code runs."""

from __future__ import annotations

import importlib
import time
import torch
import torch.nn.functional as F



DTYPES = {"float32": torch.float32, "float64": torch.float64, "float16": torch.float16,
          "bfloat16": torch.bfloat16}

# --------------------------------------------------- captured at import, before candidate code

_perf_counter = time.perf_counter
_clone = torch.Tensor.clone
_tensor_type = torch.Tensor
_set_num_threads = torch.set_num_threads
_get_num_threads = torch.get_num_threads
_set_default_dtype = torch.set_default_dtype
_set_grad_enabled = torch.set_grad_enabled
_import_threads = torch.get_num_threads()
_add = torch.add
_relu_ = torch.Tensor.relu_
_mul_ = torch.Tensor.mul_
_CUDA_API = {
    "event": torch.cuda.Event,
    "record": torch.cuda.Event.record,
    "elapsed": torch.cuda.Event.elapsed_time,
    "event_sync": torch.cuda.Event.synchronize,
    "synchronize": torch.cuda.synchronize,
}


def bias_relu(x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """PyTorch reference for the Triton bias+ReLU exercise: relu(x + bias) with bias per channel
    (dim 1). Eager PyTorch: one kernel for the add, one in-place for the ReLU."""
    shape = [1, -1] + [1] * (x.dim() - 2)
    return _relu_(_add(x, bias.view(shape)))


_conv2d = F.conv2d


def depthwise_conv3x3(x: torch.Tensor, weight: torch.Tensor, bias=None) -> torch.Tensor:
    """PyTorch reference for the Triton depthwise exercise: F.conv2d(x, w, b, padding=1,
    groups=C), with the candidate's signature (stride, padding and groups are fixed there)."""
    return _conv2d(x, weight, bias, 1, 1, 1, x.shape[1])


# Dotted references resolved now, so a candidate who replaces `torch.nn.functional.conv2d`
# at import time does not change what the reference side runs.
_REFERENCES = {
    "torch.nn.functional.conv2d": F.conv2d,
    "torch.nn.functional.conv1d": F.conv1d,
    "torch.nn.functional.conv_transpose2d": F.conv_transpose2d,
    "torch.nn.functional.linear": F.linear,
    "torch.nn.functional.relu": F.relu,
    "torch.nn.functional.softmax": F.softmax,
    "torch.nn.functional.layer_norm": F.layer_norm,
    "torch.nn.functional.batch_norm": F.batch_norm,
    "torch.nn.functional.max_pool2d": F.max_pool2d,
    "torch.nn.functional.unfold": F.unfold,
    "torch.conv2d": torch.conv2d,
    "torch.matmul": torch.matmul,
    "torch.mm": torch.mm,
    "torch.bmm": torch.bmm,
    "torch.addmm": torch.addmm,
    "torch.relu": torch.relu,
    "torch.add": torch.add,
    "grader.timing.references.bias_relu": bias_relu,
    "grader.timing.references:bias_relu": bias_relu,
    "grader.timing.references.depthwise_conv3x3": depthwise_conv3x3,
    "grader.timing.references:depthwise_conv3x3": depthwise_conv3x3,
}


def resolve(path: str):
    """The object named by "pkg.module.attr" or "pkg.module:attr" (captured ones first)."""
    if path in _REFERENCES:
        return _REFERENCES[path]
    if ":" in path:
        module_name, _, attr_path = path.partition(":")
        obj = importlib.import_module(module_name)
    else:
        parts = path.split(".")
        for i in range(len(parts) - 1, 0, -1):
            try:
                obj = importlib.import_module(".".join(parts[:i]))
            except ImportError:
                continue
            attr_path = ".".join(parts[i:])
            break
        else:
            raise ImportError(f"cannot import any module prefix of '{path}'")
    for attr in attr_path.split("."):
        obj = getattr(obj, attr)
    return obj

