"""The FBNetV3 grid (FBNetV3 Sec. 4.2-4.3, the recipe swap and the AutoTrain comparison; issues
12 and 14): which seeds each retrain role runs, and where every step writes (the one path
grammar of :mod:`nasrepro.paths`), and the grid interface of :mod:`nasrepro.stages`. Torch-free,
so the workflow's rules, the experiment and the tables read one definition.

* study ``fbnetv3/study/pretrain/``: the predictor's proxy pretraining;
* search ``fbnetv3/search/<budget>_<mode>/seed<s>/`` (``fbnetv3.search_seed``);
* study ``fbnetv3/study/predictor/``: the predictor's ranking quality;
* retrain ``fbnetv3/retrain/<role>/seed<s>/`` (one job per role and seed).

``fbnetv3.retrain_seeds`` (else the profile's ``seeds``) replicate the recipe-swap roles
(``swap/...``: claim F1, the cheapest decidable replicates); ``fbnetv3.display_retrain_seeds``
(else ``retrain_seeds``) run the AutoTrain and arch-only roles (claims F2 and F5, which no
affordable n decides at the default scale): the tables keep every row, each with its n.

``fbnetv3.replicate_search_seeds`` (issues 10 and 12) repeat every search at further search
seeds ``k`` (search cells ``A_joint``, ``B_joint``, ``A_arch_only``, ``A_autotrain`` at seed
``k``) with the retrain roles that claims F1, F2 and F5 compare: the recipe swap
``swap/<X>_recipe<Y>_s<k>``, AutoTrain ``autotrain/autotrain_s<k>`` with its comparator
``autotrain/default_s<k>``, and ``search/arch_only_s<k>`` (F5's joint arm at ``k`` is
``swap/A_recipeA_s<k>``, the joint search's own arch and recipe). Each claim then has one
independent replicate per search seed (its ``unit``: the mean over the unit's retrain seeds)
and speaks about the method, not about one searched arch or recipe. The AutoTrain roles of
unit ``k`` retrain at their own seeds (:func:`role_retrain_seeds`): the default recipe on the
fixed arch involves no search, so at shared seeds every unit's comparator would be the same
runs and the units' differences would not be independent.
"""

from __future__ import annotations

import re

from nasrepro.config import seeds_of
from nasrepro.paths import finished, run_path

PAPER = "fbnetv3"
#: retrain role -> (search whose best.json gives the arch, search that gives the recipe); ""
#: = AutoTrain's fixed arch / the default recipe
ROLE_SOURCES = {
    "swap/A_recipeA": ("A_joint", "A_joint"),
    "swap/A_recipeB": ("A_joint", "B_joint"),
    "swap/B_recipeB": ("B_joint", "B_joint"),
    "swap/B_recipeA": ("B_joint", "A_joint"),
    "autotrain/default": ("", ""),
    "autotrain/autotrain": ("", "A_autotrain"),
    "search/arch_only": ("A_arch_only", ""),
}
PRETRAIN_DIR = run_path(PAPER, "study", "pretrain")
PREDICTOR_DIR = run_path(PAPER, "study", "predictor")


def search_path(budget: str, mode: str, seed: int | str) -> str:
    return run_path(PAPER, "search", f"{budget}_{mode}", seed)


def retrain_path(role: str, seed: int | str) -> str:
    return run_path(PAPER, "retrain", role, seed)


def replicate_search_seeds(config: dict) -> list[int]:
    """``fbnetv3.replicate_search_seeds``: further seeds of every search (and retrain role)."""
    from nasrepro.errors import ConfigError

    seeds = [int(k) for k in config[PAPER].get("replicate_search_seeds") or []]
    if int(config[PAPER]["search_seed"]) in seeds:
        raise ConfigError(f"fbnetv3.replicate_search_seeds {seeds} repeats fbnetv3.search_seed "
                          f"{config[PAPER]['search_seed']} (the main searches); list other seeds")
    return seeds


def _at(source: str, k: int) -> str:
    """Search ``source`` (a :data:`ROLE_SOURCES` entry) at replicate seed ``k``."""
    return f"{source}@{k}" if source else ""


def role_sources(config: dict) -> dict[str, tuple[str, str]]:
    """Every retrain role of ``config`` -> (arch source, recipe source): :data:`ROLE_SOURCES`
    plus, per replicate search seed ``k``, every role again as ``<role>_s<k>`` with its
    sources at seed ``k``. A source ``<budget>_<mode>@<k>`` is that search at seed ``k``;
    without ``@`` at ``fbnetv3.search_seed``."""
    roles = dict(ROLE_SOURCES)
    for k in replicate_search_seeds(config):
        roles.update({f"{role}_s{k}": (_at(arch, k), _at(recipe, k))
                      for role, (arch, recipe) in ROLE_SOURCES.items()})
    return roles


def replicate_of(role: str) -> int | None:
    """The replicate search seed ``k`` of a ``<role>_s<k>`` role, else None."""
    m = re.search(r"_s(\d+)$", role)
    return int(m.group(1)) if m else None


def role_retrain_seeds(config: dict, role: str) -> list[int]:
    """Training seeds of the retrain runs of ``role`` (run i uses seed i): the recipe swap
    ``fbnetv3.retrain_seeds``, the others ``fbnetv3.display_retrain_seeds``; the AutoTrain roles
    of replicate unit ``k`` the named streams ``child_seed(s, "autotrain-unit", k) % 2**31`` of
    those (31 bits: any seeding API takes them). Their comparator, the default recipe on the
    fixed arch, must not be the same runs in every unit."""
    if role.startswith("swap/"):
        seeds = seeds_of(config, "fbnetv3", "retrain_seeds")
    else:
        seeds = seeds_of(config, "fbnetv3", "display_retrain_seeds", "retrain_seeds")
    k = replicate_of(role)
    if role.startswith("autotrain/") and k is not None:
        from nasrepro.seeds import child_seed

        return [child_seed(s, "autotrain-unit", k) % 2**31 for s in seeds]
    return seeds


def role_seeds_key(role: str) -> str:
    """Where :func:`role_retrain_seeds` of ``role`` come from, for messages."""
    key = ("fbnetv3.retrain_seeds" if role.startswith("swap/")
           else "fbnetv3.display_retrain_seeds (else fbnetv3.retrain_seeds)")
    if role.startswith("autotrain/") and replicate_of(role) is not None:
        key = f"named seeds of replicate unit {replicate_of(role)} from {key}"
    return key


# --- the grid interface (nasrepro.stages; rules fbnetv3_<stage> in workflow/rules/stages.smk) -
#: the searches ``<budget>_<mode>``: the joint search at both budgets, arch-only and AutoTrain
SEARCHES = ("A_joint", "B_joint", "A_arch_only", "A_autotrain")
PROXY = f"{PRETRAIN_DIR}/proxy.pt"
PREDICTOR_FILES = (f"{PREDICTOR_DIR}/predictor_runs.csv", f"{PREDICTOR_DIR}/predictions.csv")


def search_run(config: dict, name: str) -> str:
    """The run directory of search ``<budget>_<mode>`` (at ``fbnetv3.search_seed``) or
    ``<budget>_<mode>@<k>`` (at seed ``k``)."""
    name, _, seed = name.partition("@")
    return search_path(*name.split("_", 1), seed or config[PAPER]["search_seed"])


def search_runs(config: dict) -> list[tuple[str, int]]:
    """``(cell, seed)`` of every search: all four at the search seed, then all four at each
    replicate seed."""
    return ([(name, int(config[PAPER]["search_seed"])) for name in SEARCHES]
            + [(name, k) for k in replicate_search_seeds(config) for name in SEARCHES])


def runs(config: dict, stage: str) -> list[tuple[str, int]]:
    """``(cell, seed)``: every search; every retrain role at its seeds."""
    if stage == "search":
        return search_runs(config)
    if stage == "retrain":
        return [(role, s) for role in role_sources(config)
                for s in role_retrain_seeds(config, role)]
    return []


def run_inputs(config: dict, stage: str, cell: str, seed: int | str) -> dict[str, str]:
    """A search reads the pretrained proxy; a retrain the searches its arch and recipe come
    from (their ``best.json``)."""
    if stage == "search":
        return {"proxy": PROXY}
    if stage == "retrain":
        return {name: finished(search_run(config, source))
                for name, source in zip(("arch", "recipe"), role_sources(config)[cell],
                                        strict=True)
                if source}
    return {}


def predictor_inputs(config: dict) -> dict[str, str | list[str]]:
    """The predictor study reads the proxy and the joint searches' measured candidates."""
    return {"proxy": PROXY,
            "search": [finished(search_run(config, s)) for s in ("A_joint", "B_joint")]}


def table_inputs(config: dict) -> list[str]:
    return [*(finished(retrain_path(r, s)) for r, s in runs(config, "retrain")), PROXY,
            PREDICTOR_FILES[0], *(finished(search_path(*c.split("_", 1), s))
                                  for c, s in search_runs(config))]


def figure_inputs(config: dict) -> list[str]:
    return [PREDICTOR_FILES[1], *(finished(search_run(config, s)) for s in SEARCHES)]
