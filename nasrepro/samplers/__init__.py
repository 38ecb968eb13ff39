"""Path/subnet samplers: which architecture the supernet trains at each step.

A sampler has ``sample() -> arch`` and ``state_dict()/load_state_dict()`` (its RNG state, so a
resumed run continues the same sequence). SPOS uses :class:`UniformSampler` (paper) and
:class:`MacsBinnedSampler` (official code); later papers add sandwich/attentive samplers.
"""

from nasrepro.samplers.single_path import SinglePathStep
from nasrepro.samplers.uniform import MacsBinnedSampler, UniformSampler, default_macs_bins

__all__ = ["MacsBinnedSampler", "SinglePathStep", "UniformSampler", "default_macs_bins"]
