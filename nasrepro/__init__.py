"""nasrepro: a reproducible benchmark suite for one-shot (weight-sharing) NAS.

Shared implementations of the parts every paper needs (data, search spaces, supernets,
samplers, one training loop, one evaluator, one cost model, search, predictors, metrics,
reporting). Methods in the top-level ``methods/`` folder combine these parts and register
themselves with :mod:`nasrepro.registry`.
"""

__version__ = "0.1.0"
