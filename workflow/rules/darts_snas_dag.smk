# SNAS vs DARTS DAG helpers: groups, paths and input functions of workflow/rules/darts_snas.smk.
from nasrepro.papers.darts_snas.experiment import groups as _darts_snas_groups

R_DS = f"{P}/darts_snas"
DS_GROUPS = _darts_snas_groups(config)
DS_SEARCH = [g.dirname for g in DS_GROUPS if g.kind == "relaxation"]
DS_ALL = [g.dirname for g in DS_GROUPS]
# searches at darts_snas.seeds, retrains at darts_snas.retrain_seeds (a subset; both default to
# the profile's seeds): retrain run i retrains the cell of the search at DS_RETRAIN_SEEDS[i]
DS_SEEDS = seeds_of(config, "darts_snas")
DS_RETRAIN_SEEDS = seeds_of(config, "darts_snas", "retrain_seeds", "seeds")

DS_FINALS = expand(f"{R_DS}/search/{{group}}/seed{{seed}}/final.json", group=DS_SEARCH,
                   seed=DS_SEEDS)
DS_METRICS = expand(f"{R_DS}/retrain/{{group}}/run{{index}}/metrics.json", group=DS_ALL,
                    index=range(len(DS_RETRAIN_SEEDS)))
DS_TABLES = expand(f"{P}/tables/darts_snas_{{name}}.{{ext}}",
                   name=["child_accuracy", "retrain", "penalty"], ext=["csv", "md", "tex"])
DS_EXTRA_CSV = [f"{P}/tables/darts_snas_measurements.csv",
                f"{P}/tables/darts_snas_leaderboard.csv"]
DS_FIGURES = expand(f"{P}/figures/darts_snas_{{name}}.{{ext}}",
                    name=["search_curves", "child_accuracy", "entropy", "cells"],
                    ext=["pdf", "png"])


def _ds_retrain_input(wc):
    inputs = {"splits": SPLITS}
    if wc.group in DS_SEARCH:
        seed = DS_RETRAIN_SEEDS[int(wc.index)]
        inputs["final"] = f"{R_DS}/search/{wc.group}/seed{seed}/final.json"
    return inputs


def _ds_search_flag(wc, input):
    return f"--search-best {input.final}" if "final" in input.keys() else ""


