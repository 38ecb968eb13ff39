"""Helpers shared by the benchmarks: timing with warm-up, the default-profile data."""

from __future__ import annotations

import time
from collections.abc import Callable

import torch


def timeit(fn: Callable[[], object], *, repeat: int, warmup: int = 2) -> float:
    """Median wall seconds of ``fn`` over ``repeat`` calls after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    times.sort()
    return times[len(times) // 2]


def fake_batch(shape: tuple[int, int, int], batch: int, classes: int = 10,
               seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A random batch (speed does not depend on pixel values)."""
    g = torch.Generator().manual_seed(seed)
    return torch.randn(batch, *shape, generator=g), torch.randint(0, classes, (batch,),
                                                                   generator=g)
