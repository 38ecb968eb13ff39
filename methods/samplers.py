"""Samplers (registry kind ``sampler``): the path/subnet a supernet trains at each step.

One protocol for every pipeline (:mod:`nasrepro.samplers.protocol`): a factory
``(space, seed, context) -> sampler`` with ``sampler(model, x, y, ctx) -> list[arch]``. The
SPOS single-path step (Guo et al. 2019, Sec. 3.2) and the AttentiveNAS sandwich step (Wang et
al. 2021, Sec. 3.2) both take any of them, so each sampler can be listed in
``spos.methods.sampler`` and ``attentivenas.methods.sampler`` alike. Each entry only combines
library parts of :mod:`nasrepro.samplers`. Their typed settings reach them as
``context.settings`` (:func:`nasrepro.registry.resolve_settings`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from nasrepro.registry import register_method
from nasrepro.samplers import (
    AttentiveChooser,
    MacsBinnedSampler,
    SamplerContext,
    UniformSampler,
    default_macs_bins,
)
from nasrepro.spaces.base import SearchSpace

BOTH = ("spos", "attentivenas")


@dataclass(frozen=True)
class FlopsBinnedSettings:
    """``macs_bins``: ``[low, high, n]`` in MACs (``None``: the space's 5th-95th percentile in
    7 bins); SPOS reads it from ``spos.macs_bins``."""

    macs_bins: list[float] | None = None


@dataclass(frozen=True)
class AttentiveSettings:
    """``k`` candidates per slot, scored by ``scorer``: the minibatch ``loss`` (official code,
    k = 3) or the accuracy ``predictor`` (paper, k = 50); AttentiveNAS reads them from
    ``attentivenas.attentive``."""

    k: int = 3
    scorer: Literal["loss", "predictor"] = "loss"


@register_method("uniform", kind="sampler", papers=BOTH)
def uniform(space: SearchSpace, seed: int, context: SamplerContext) -> UniformSampler:
    """Uniform sampling of every choice (SPOS paper; AttentiveNAS's BigNAS baseline)."""
    return UniformSampler(space, seed)


@register_method("flops-binned", kind="sampler", papers=BOTH, settings=FlopsBinnedSettings)
def flops_binned(space: SearchSpace, seed: int, context: SamplerContext) -> MacsBinnedSampler:
    """Uniform bin of MACs, then a uniform path inside it (official SPOS code)."""
    settings = context.settings or FlopsBinnedSettings()
    if settings.macs_bins is None:
        edges = default_macs_bins(space)
    else:
        low, high, n = settings.macs_bins
        step = (high - low) / int(n)
        edges = [low + i * step for i in range(int(n) + 1)]
    return MacsBinnedSampler(space, seed, edges)


def _attentive(mode: str, space: SearchSpace, seed: int,
               context: SamplerContext) -> AttentiveChooser:
    settings = context.settings or AttentiveSettings()
    score = context.predictor() if settings.scorer == "predictor" else "loss"
    return AttentiveChooser(space, seed, context.prior(), settings.k, mode=mode, scorer=score)


@register_method("bestup", kind="sampler", papers=BOTH, settings=AttentiveSettings)
def bestup(space: SearchSpace, seed: int, context: SamplerContext) -> AttentiveChooser:
    """BestUp-k: MACs target from the prior, k candidates, train the best-scored one."""
    return _attentive("best", space, seed, context)


@register_method("worstup", kind="sampler", papers=BOTH, settings=AttentiveSettings)
def worstup(space: SearchSpace, seed: int, context: SamplerContext) -> AttentiveChooser:
    """WorstUp-k: MACs target from the prior, k candidates, train the worst-scored one."""
    return _attentive("worst", space, seed, context)
