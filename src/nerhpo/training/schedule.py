"""The learning-rate schedule of every training here: a linear warm-up, then a linear decay to
zero at the last step (as the Hugging Face Trainer's default, ``get_linear_schedule_with_warmup``).

``ramp`` is the warm-up's denominator: fine-tuning starts at 1/(warmup + 1) of the peak, the
scratch encoder's pretraining at 1/warmup (the encoder it has always produced)."""

from __future__ import annotations


def warmup_linear_decay(step: int, total: int, warmup: int, ramp: int) -> float:
    """The factor of the peak learning rate at ``step`` (0-based) of ``total`` steps."""
    if step < warmup:
        return (step + 1) / ramp
    return max(0.0, (total - step) / max(1, total - warmup))
