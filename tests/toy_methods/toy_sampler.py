"""A toy sampler plug-in (tests): uniform paths from its own seed stream, in both supernet
pipelines. One module; listing ``toy-sampler`` in ``spos.methods.sampler`` or
``attentivenas.methods.sampler`` adds its supernets to that paper's tables."""

from __future__ import annotations

from nasrepro.registry import register_method
from nasrepro.samplers import SamplerContext, UniformSampler
from nasrepro.spaces.base import SearchSpace


@register_method("toy-sampler", kind="sampler", papers=("spos", "attentivenas"))
def toy_sampler(space: SearchSpace, seed: int, context: SamplerContext) -> UniformSampler:
    """Uniform paths from the seed stream ``seed + 1000`` (toy plug-in for the tests)."""
    return UniformSampler(space, seed + 1000)
