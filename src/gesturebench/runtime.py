"""Device selection and mixed precision, shared by extraction and benchmarks."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from .errors import ConfigError

if TYPE_CHECKING:
    import torch

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def resolve_device(device: str = "auto") -> torch.device:
    """``auto`` -> CUDA when present, else CPU. ``cuda:1`` style names are accepted."""
    import torch

    base = device.split(":", 1)[0]
    if base not in DEVICE_CHOICES:
        raise ConfigError(f"device must be one of {', '.join(DEVICE_CHOICES)} (or cuda:N); got {device!r}")
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if base == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device {device!r} requested but CUDA is not available here; use --device cpu or auto")
    if base == "mps" and not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
        raise ConfigError(f"device {device!r} requested but MPS is not available here; use --device cpu or auto")
    return torch.device(device)


def autocast_context(device: torch.device, dtype: str = "auto"):
    """bf16 autocast on CUDA by default; plain fp32 elsewhere.

    ``dtype`` is ``auto`` | ``fp32`` | ``bf16`` | ``fp16``.
    """
    import torch

    if dtype not in ("auto", "fp32", "bf16", "fp16"):
        raise ConfigError(f"dtype must be one of auto, fp32, bf16, fp16; got {dtype!r}")
    if dtype == "auto":
        dtype = "bf16" if device.type == "cuda" else "fp32"
    if dtype == "fp32":
        return contextlib.nullcontext()
    torch_dtype = torch.bfloat16 if dtype == "bf16" else torch.float16
    if device.type == "cpu" and dtype == "fp16":
        raise ConfigError("dtype fp16 is not supported on cpu; allowed there: fp32, bf16")
    return torch.autocast(device_type=device.type, dtype=torch_dtype)
