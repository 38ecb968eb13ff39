"""The SPOS grid (SPOS Sec. 4, Tables 3 and 4; issues 12 and 14): the seeds of each supernet,
search and retrain role, and their run directories (the one path grammar of
:mod:`nasrepro.paths`). Torch-free, so the workflow's rules, the experiments and the
reporting read one definition. The grid interface every paper has (:mod:`nasrepro.stages`):
:func:`runs`, :func:`run_inputs`, :func:`table_inputs`, :func:`figure_inputs`.

The *main* seeds (``spos.seeds``, else the profile's ``seeds``) replicate the block supernet
with the main sampler, its searches and their retrains: the arms of claims S1/S2. The
*display* seeds (``spos.display_seeds``, else the main seeds) run every other row (all-choice
baselines, other samplers, the channel and block+channel supernets), which no claim at this
scale can decide on: the tables keep all rows of the papers, each with its n.
"""

from __future__ import annotations

from nasrepro.config import methods_of
from nasrepro.errors import ConfigError
from nasrepro.paths import finished, run_path


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


# --- paths (the one grammar of nasrepro.paths) ------------------------------------------------
PAPER = "spos"
#: the inherit step's table (claim S4): every retrained arch scored on the first supernets
INHERIT_CSV = f"{run_path(PAPER, 'study', 'inherit')}/inherit.csv"


def supernet_path(supernet: str, sampler: str, seed: int | str) -> str:
    """``spos/train_supernet/<supernet>/<sampler>/seed<s>``."""
    return run_path(PAPER, "train_supernet", f"{supernet}/{sampler}", seed)


def search_path(supernet: str, sampler: str, searcher: str, seed: int | str) -> str:
    """``spos/search/<supernet>/<sampler>/<searcher>/seed<s>`` (the supernet's seed)."""
    return run_path(PAPER, "search", f"{supernet}/{sampler}/{searcher}", seed)


def retrain_path(role: str, seed: int | str) -> str:
    """``spos/retrain/<role>/seed<s>``: the run of ``role`` at training seed ``s`` (a search
    role: the seed of the supernet and search that found the arch; a random role: the
    arch's draw)."""
    return run_path(PAPER, "retrain", role, seed)


def retrain_paths(config: dict, role: str) -> list[str]:
    """Every retrain run of ``role``, in run-index order."""
    return [retrain_path(role, s) for s in role_seeds(config, role)]


# --- the grid interface (nasrepro.stages; rules spos_<stage> in workflow/rules/stages.smk) ----
def search_roles(config: dict) -> list[str]:
    """``search/<supernet>/<sampler>/<searcher>`` of every retrained search result: the block
    supernet with every sampler and searcher, the channel and block+channel supernets with
    the main ones."""
    sp = config["spos"]
    roles = [f"search/block/{s}/{q}" for s in methods_of(config, PAPER, "sampler")
             for q in methods_of(config, PAPER, "searcher")]
    for supernet in ("channel", "block_channel"):
        roles.append(f"search/{supernet}/{sp['main_sampler']}/{sp['main_searcher']}")
    return roles


def retrain_roles(config: dict) -> list[str]:
    """Every retrain role of Tables 3 and 4: the all-choice archs, one random role per
    supernet, and the search results."""
    roles = [f"fixed/all_choice_{c}" for c in ("3", "5", "7", "x")]
    roles += [f"random/{supernet}" for supernet in ("block", "channel", "block_channel")]
    return roles + search_roles(config)


def runs(config: dict, stage: str) -> list[tuple[str, int]]:
    """``(cell, seed)`` of every run of ``stage``: the supernets the searches read, one search
    per supernet, and every retrain role at each of its seeds."""
    if stage == "retrain":
        return [(role, s) for role in retrain_roles(config) for s in role_seeds(config, role)]
    searches = [(role.removeprefix("search/"), s) for role in search_roles(config)
                for s in role_seeds(config, role)]
    if stage == "search":
        return searches
    if stage == "train_supernet":
        return list(dict.fromkeys((cell.rsplit("/", 1)[0], s) for cell, s in searches))
    return []


def run_inputs(config: dict, stage: str, cell: str, seed: int | str) -> dict[str, str]:
    """What a run reads (relative to ``results/<profile>``): a search its supernet's run, a
    retrain of a search role the search's run (its ``best.json``)."""
    if stage == "search":
        supernet, sampler, _ = cell.split("/")
        return {"supernet": finished(supernet_path(supernet, sampler, seed))}
    if stage == "retrain" and cell.startswith("search/"):
        return {"search": finished(run_path(PAPER, "search", cell.removeprefix("search/"),
                                            seed))}
    return {}


def first_supernet_path(config: dict, supernet: str) -> str:
    """The main sampler's ``supernet`` at its first seed (the inherit study scores archs on it)."""
    sampler = config["spos"]["main_sampler"]
    return supernet_path(supernet, sampler, supernet_seeds(config, supernet, sampler)[0])


def inherit_inputs(config: dict) -> dict[str, str | list[str]]:
    """The inherit study's inputs: the first block and block+channel supernets, every retrain."""
    return {"block": finished(first_supernet_path(config, "block")),
            "block_channel": finished(first_supernet_path(config, "block_channel")),
            "retrain": [finished(retrain_path(r, s)) for r, s in runs(config, "retrain")]}


def table_inputs(config: dict) -> list[str]:
    """Tables 3/4 read every retrain, the inherit study, and the supernet and search of every
    retrained search result (the leaderboard's search cost)."""
    return [*(finished(run_path(PAPER, stage, c, s)) for stage in ("retrain", "search",
                                                                    "train_supernet")
              for c, s in runs(config, stage)), INHERIT_CSV]


def figure_inputs(config: dict) -> list[str]:
    """The search curves (block supernet, every sampler and searcher) and the inherit study."""
    return [*(finished(search_path(*c.split("/"), s)) for c, s in runs(config, "search")
              if c.startswith("block/")), INHERIT_CSV]
