# SNAS vs DARTS DAG helpers: groups, paths and input functions of workflow/rules/darts_snas.smk.
from nasrepro.papers.darts_snas.experiment import groups as _darts_snas_groups
from nasrepro.papers.darts_snas.grid import retrain_path as ds_retrain_path
from nasrepro.papers.darts_snas.grid import retrain_seeds as _ds_retrain_seeds
from nasrepro.papers.darts_snas.grid import search_path as ds_search_path
from nasrepro.papers.darts_snas.grid import search_seeds as _ds_search_seeds

DS_GROUPS = _darts_snas_groups(config)
DS_SEARCH = [g.dirname for g in DS_GROUPS if g.kind == "relaxation"]
DS_ALL = [g.dirname for g in DS_GROUPS]
# searches at darts_snas.seeds, retrains at darts_snas.retrain_seeds (a subset; both default to
# the profile's seeds): retrain run i retrains the cell of the search at DS_RETRAIN_SEEDS[i]
DS_SEEDS = _ds_search_seeds(config)
DS_RETRAIN_SEEDS = _ds_retrain_seeds(config)

DS_FINALS = [f"{P}/{ds_search_path(g, s)}/final.json" for g in DS_SEARCH for s in DS_SEEDS]
DS_METRICS = [f"{P}/{ds_retrain_path(g, s)}/metrics.json" for g in DS_ALL
              for s in DS_RETRAIN_SEEDS]


def _ds_retrain_input(wc):
    inputs = {"splits": SPLITS}
    if wc.group in DS_SEARCH:
        inputs["final"] = f"{P}/{ds_search_path(wc.group, wc.seed)}/final.json"
    return inputs
