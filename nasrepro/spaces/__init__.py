"""Search spaces: arch encoding, sampling, variation, analytic cost, networks, presets."""

from nasrepro.spaces.base import Arch, Cost, SearchSpace, get_space, list_spaces, register_space

__all__ = ["Arch", "Cost", "SearchSpace", "get_space", "list_spaces", "register_space"]
