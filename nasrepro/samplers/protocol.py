"""The one sampler protocol of every supernet training step (registry kind ``sampler``).

A sampler is built by a registered factory ``factory(space, seed, context)`` and called once per
random slot of a training step: ``sampler(model, x, y, ctx) -> list[arch]`` (the subnets to
train on this batch; SPOS trains one path per step, Guo et al. 2019 Sec. 3.2; the AttentiveNAS
sandwich step asks for ``n_random`` slots, Wang et al. 2021 Sec. 3.2). Samplers that ignore the
model (uniform, FLOPs-binned) never touch it; attentive ones score candidates on the batch.
``state_dict()/load_state_dict()`` (optional) hold the RNG state so a resumed run continues the
same sequence, and ``space`` is the space it samples from.

:class:`SamplerContext` is what a pipeline offers a sampler factory: a lazily built MACs prior,
a lazily built accuracy predictor, and the sampler's typed settings
(:func:`nasrepro.registry.resolve_settings`).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from torch import Tensor, nn

from nasrepro.spaces.base import Arch, SearchSpace

#: ``f(archs) -> predicted accuracies`` (one float per arch; higher is better).
Predictor = Callable[[list[Arch]], Sequence[float]]


class Sampler(Protocol):
    """What a registered sampler factory returns."""

    space: SearchSpace

    def __call__(self, model: nn.Module, x: Tensor, y: Tensor, ctx: Any) -> list[Arch]: ...


def _no_predictor() -> Predictor:
    raise ValueError("this pipeline offers no accuracy predictor; use scorer: loss")


@dataclass
class SamplerContext:
    """What a pipeline offers a sampler factory.

    Attributes:
        prior: ``() -> p(MACs)`` (anything with ``sample_range(rng)``), built on first call.
        predictor: ``() -> Predictor``; only call it when the sampler scores candidates with
            a predictor.
        settings: the sampler's typed settings (``None``: its defaults).
    """

    prior: Callable[[], Any]
    predictor: Callable[[], Predictor] = _no_predictor
    settings: Any = None


def uniform_prior(space: SearchSpace, n: int = 2000, seed: int = 0,
                  n_buckets: int = 20) -> Callable[[], Any]:
    """``() -> p(MACs)`` of ``n`` uniform archs in ``n_buckets`` buckets (built once): the
    prior of pipelines that do not build their own (AttentiveNAS caches its own)."""
    cache: list[Any] = []

    def build() -> Any:
        if not cache:
            from nasrepro.spaces.macs_prior import macs_histogram

            rng = random.Random(seed)
            macs = [space.cost(space.sample(rng)).macs for _ in range(n)]
            bucket = max(1.0, (max(macs) - min(macs)) / n_buckets)
            cache.append(macs_histogram(space, n, seed, bucket))
        return cache[0]

    return build
