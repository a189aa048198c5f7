"""What every benchmark prints beside its figures: the CPU it ran on (the machines of this
project differ: some have AVX512-BF16, some are fp32-only and about 3× slower). The same
name that checkpoints record of their training (tvnet/record.py)."""

from __future__ import annotations

from tvnet.record import cpu_model

__all__ = ["cpu_model"]
