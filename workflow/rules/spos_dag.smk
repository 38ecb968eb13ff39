# SPOS DAG helpers (no rules; `snakemake --lint` wants rules and functions in separate files):
# the grid of supernets, searches and retrain runs of Tables 3/4, and their paths.
SP = config["spos"]
MAIN_SAMPLER = SP["main_sampler"]
MAIN_SEARCHER = SP["main_searcher"]
SP_SAMPLERS = methods_of(config, "spos", "sampler")
SP_SEARCHERS = methods_of(config, "spos", "searcher")

from nasrepro.papers.spos.grid import INHERIT_CSV, role_seeds, supernet_seeds  # noqa: E402
from nasrepro.papers.spos.grid import retrain_path, search_path, supernet_path  # noqa: E402

SPOS_INHERIT = f"{P}/{INHERIT_CSV}"


def spos_search_roles():
    """search/<supernet>/<sampler>/<searcher> of every retrained search result."""
    roles = [f"search/block/{s}/{q}" for s in SP_SAMPLERS for q in SP_SEARCHERS]
    for supernet in ("channel", "block_channel"):
        roles.append(f"search/{supernet}/{MAIN_SAMPLER}/{MAIN_SEARCHER}")
    return roles


def spos_runs():
    """(role, training seed) of every retrain run of Tables 3 and 4."""
    roles = [f"fixed/{name}" for name in ("all_choice_3", "all_choice_5", "all_choice_7",
                                            "all_choice_x")]
    roles += [f"random/{supernet}" for supernet in ("block", "channel", "block_channel")]
    roles += spos_search_roles()
    return [(role, s) for role in roles for s in role_seeds(config, role)]


def spos_supernet_dir(supernet, sampler, seed):
    return f"{P}/{supernet_path(supernet, sampler, seed)}"


def spos_search_dir(supernet, sampler, searcher, seed):
    return f"{P}/{search_path(supernet, sampler, searcher, seed)}"


def spos_first_supernet_dir(supernet):
    """The main sampler's supernet at its first seed (the inherit step scores archs on it)."""
    return spos_supernet_dir(supernet, MAIN_SAMPLER, supernet_seeds(config, supernet, MAIN_SAMPLER)[0])


SPOS_METRICS = [f"{P}/{retrain_path(r, s)}/metrics.json" for r, s in spos_runs()]
# the supernet and search of every retrained search result (the leaderboard's search cost)
SPOS_SEARCH_RUNS = [
    path
    for role in spos_search_roles() for seed in role_seeds(config, role)
    for path in (f"{spos_supernet_dir(*role.split('/')[1:3], seed)}/supernet.pt",
                 f"{spos_search_dir(*role.split('/')[1:], seed)}/best.json")
]
SPOS_CURVES = [
    f"{spos_search_dir('block', s, q, seed)}/curve.csv"
    for s in SP_SAMPLERS for q in SP_SEARCHERS for seed in supernet_seeds(config, "block", s)
]


def _spos_retrain_input(wc):
    inputs = {"splits": SPLITS}
    if wc.role.startswith("search/"):
        _, supernet, sampler, searcher = wc.role.split("/")
        inputs["best"] = f"{spos_search_dir(supernet, sampler, searcher, wc.seed)}/best.json"
    return inputs
