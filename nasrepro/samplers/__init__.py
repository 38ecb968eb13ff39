"""Path/subnet samplers: which architecture the supernet trains at each step.

A sampler has ``sample() -> arch`` and ``state_dict()/load_state_dict()`` (its RNG state, so a
resumed run continues the same sequence). SPOS uses :class:`UniformSampler` (paper) and
:class:`MacsBinnedSampler` (official code); AttentiveNAS uses :class:`SandwichStep` with uniform
or attentive (:class:`AttentiveChooser`, BestUp/WorstUp) choice of the middle subnets.
"""

from nasrepro.samplers.attentive import AttentiveChooser
from nasrepro.samplers.sandwich import SandwichStep, soft_distill_loss
from nasrepro.samplers.single_path import SinglePathStep
from nasrepro.samplers.uniform import MacsBinnedSampler, UniformSampler, default_macs_bins

__all__ = [
    "AttentiveChooser",
    "MacsBinnedSampler",
    "SandwichStep",
    "SinglePathStep",
    "UniformSampler",
    "default_macs_bins",
    "soft_distill_loss",
]
