"""Which runs SPOS Tables 3/4 are made of (SPOS Sec. 4, Tables 3 and 4; issue 12): the seeds of
each supernet, search and retrain role. Torch-free, so the workflow's DAG helpers, the
experiments and the reporting read one definition.

The *main* seeds (``spos.seeds``, else the profile's ``seeds``) replicate the block supernet
with the main sampler, its searches and their retrains: the arms of claims S1/S2. The
*display* seeds (``spos.display_seeds``, else the main seeds) run every other row (all-choice
baselines, other samplers, the channel and block+channel supernets), which no claim at this
scale can decide on: the tables keep all rows of the papers, each with its n.
"""

from __future__ import annotations

from nasrepro.errors import ConfigError


def main_seeds(config: dict) -> list[int]:
    """Seeds of the block supernets with the main sampler, their searches and retrains (the
    replicates of claims S1/S2): ``spos.seeds``, else the profile's ``seeds``."""
    return list(config["spos"].get("seeds") or config["seeds"])


def display_seeds(config: dict) -> list[int]:
    """Seeds of every other row of Tables 3/4 (all-choice baselines, other samplers, the
    channel and block+channel supernets): ``spos.display_seeds``, else :func:`main_seeds`.
    Fewer seeds here keep every row of the papers' tables (marked with its n) while the
    budget goes to the replicates a claim can decide on (issue 12)."""
    return list(config["spos"].get("display_seeds") or main_seeds(config))


def supernet_seeds(config: dict, supernet: str, sampler: str) -> list[int]:
    """Seeds at which ``supernet`` is trained with ``sampler`` (and searched)."""
    main = supernet == "block" and sampler == config["spos"]["main_sampler"]
    return main_seeds(config) if main else display_seeds(config)


def role_seeds(config: dict, role: str) -> list[int]:
    """Training seeds of the retrain runs of a fixed or search role (run i uses seed i of
    it); random roles use ``range(spos.n_random)``."""
    if role.startswith("random/"):
        return list(range(config["spos"]["n_random"]))
    if role.startswith("search/"):
        parts = role.split("/")
        if len(parts) != 4:
            raise ConfigError(f"search role '{role}' is not search/<supernet>/<sampler>/"
                              "<searcher>; fix --role")
        return supernet_seeds(config, parts[1], parts[2])
    return display_seeds(config)


def role_seeds_key(config: dict, role: str) -> str:
    """Where :func:`role_seeds` of ``role`` come from, for messages."""
    if role.startswith("random/"):
        return "random archs of spos.n_random"
    sp = config["spos"]
    main = role.startswith(f"search/block/{sp['main_sampler']}/")
    if main:
        return "seed(s) of spos.seeds" if sp.get("seeds") else "seed(s) of the profile's seeds"
    if sp.get("display_seeds"):
        return "seed(s) of spos.display_seeds"
    return "seed(s) of spos.seeds" if sp.get("seeds") else "seed(s) of the profile's seeds"
