"""Which precision training and inference compute in: bf16 autocast where the hardware has it.

Its own module so that model loading and training both use it without importing each other.
"""

from __future__ import annotations

import functools
import os

import torch


def use_bf16(device: torch.device) -> bool:
    """bf16 autocast where the hardware computes it natively: CUDA GPUs with bf16, and CPUs
    with AVX512-BF16 or AMX (1.3x-1.75x faster training measured here). ``NERHPO_PRECISION``
    (``auto``, ``bf16``, ``fp32``) overrides the choice, e.g. to compare numerics."""
    choice = os.environ.get("NERHPO_PRECISION", "auto").lower()
    if choice not in ("auto", "bf16", "fp32"):
        raise ValueError(f"NERHPO_PRECISION={choice!r}: expected auto, bf16 or fp32")
    if choice != "auto":
        return choice == "bf16"
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        return _cpu_has_bf16()
    return False


@functools.cache
def _cpu_has_bf16() -> bool:
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False
