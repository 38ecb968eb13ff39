"""Path/subnet samplers: which architecture the supernet trains at each step.

Every sampler follows one protocol (:mod:`nasrepro.samplers.protocol`):
``sampler(model, x, y, ctx) -> list[arch]`` per random slot of a step, plus
``state_dict()/load_state_dict()`` (its RNG state, so a resumed run continues the same
sequence). :class:`UniformSampler` (SPOS paper), :class:`MacsBinnedSampler` (official SPOS
code) and :class:`AttentiveChooser` (AttentiveNAS BestUp/WorstUp) all drive both training
steps: :class:`SinglePathStep` (one path per step) and :class:`SandwichStep` (max, ``n_random``
sampled, min subnet).
"""

from nasrepro.samplers.attentive import AttentiveChooser
from nasrepro.samplers.protocol import Predictor, Sampler, SamplerContext, uniform_prior
from nasrepro.samplers.sandwich import SandwichStep, soft_distill_loss
from nasrepro.samplers.single_path import SinglePathStep
from nasrepro.samplers.uniform import MacsBinnedSampler, UniformSampler, default_macs_bins

__all__ = [
    "AttentiveChooser",
    "MacsBinnedSampler",
    "Predictor",
    "Sampler",
    "SamplerContext",
    "SandwichStep",
    "SinglePathStep",
    "UniformSampler",
    "default_macs_bins",
    "soft_distill_loss",
    "uniform_prior",
]
