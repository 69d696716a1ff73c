"""torchdrill: grade PyTorch interview exercises in isolated processes."""

__version__ = "0.1.0"
