"""FBNetV3 tables and figures (Dai et al. 2021; PAPERS.md section 4), from the pipeline's files.

Tables (CSV + Markdown + LaTeX, ``results/<p>/tables/``):

* ``fbnetv3_recipe_swap``: searched archs A and B retrained with their own and the other's
  searched recipe (the paper's recipe-swap table), test top-1 mean ± std over seeds (again for
  each replicate search seed of ``fbnetv3.replicate_search_seeds``);
* ``fbnetv3_autotrain``: AutoTrain's fixed arch with the default vs the searched recipe (again
  per replicate search seed);
* ``fbnetv3_predictor``: Kendall tau / Spearman / RMSE on held-out measured candidates per
  predictor method (with / without proxy pretraining, random forest), mean ± std over
  predictor seeds;
* ``fbnetv3_early_stopping``: rank correlation with the final ranking per epoch of every
  search's first coarse iteration, and the chosen epoch;
* ``fbnetv3_search``: joint vs arch-only search at the same MACs budget (one row per search,
  the replicate searches of ``fbnetv3.replicate_search_seeds`` included).

Plus ``fbnetv3_measurements.csv`` (tidy numbers of claims F1-F5) and
``fbnetv3_leaderboard.csv``. Figures (PDF + PNG): ``fbnetv3_early_stopping``,
``fbnetv3_predictor`` (held-out scatter), ``fbnetv3_search`` (best predicted / measured per
iteration and generation).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nasrepro.config import methods_of, profile_dir
from nasrepro.io import read_json
from nasrepro.papers.fbnetv3.grid import (
    PREDICTOR_DIR,
    PRETRAIN_DIR,
    replicate_of,
    replicate_search_seeds,
    retrain_path,
    role_retrain_seeds,
    role_sources,
    search_path,
    search_run,
)

#: the searches of the DAG: (budget, mode)
SEARCHES = (("A", "joint"), ("B", "joint"), ("A", "arch_only"), ("A", "autotrain"))


def roles(config: dict) -> dict[str, tuple[str, str]]:
    """Retrain roles (the grid's :func:`role_sources`) -> (measurement quantity, group):
    ``swap/A_recipeB`` and a replicate search's ``swap/A_recipeB_s1`` -> (``swap_acc``,
    ``A:recipeB``), ``autotrain/default[_s1]`` -> (``autotrain_acc``, ``default``),
    ``search/arch_only[_s1]`` -> (``search_acc``, ``arch_only``)."""
    out = {}
    for role in role_sources(config):
        kind, name = role.split("/", 1)
        out[role] = (f"{kind}_acc", re.sub(r"_s\d+$", "", name).replace("_recipe", ":recipe"))
    return out


def search_dir(config: dict, budget: str, mode: str) -> Path:
    """The run dir of the search of ``budget`` and ``mode`` (at ``fbnetv3.search_seed``)."""
    return profile_dir(config) / search_path(budget, mode, config["fbnetv3"]["search_seed"])


def run_dirs(config: dict, role: str) -> list[Path]:
    """The retrain run dirs of ``role``, in run-index order."""
    return [profile_dir(config) / retrain_path(role, s)
            for s in role_retrain_seeds(config, role)]


def _metrics(config: dict, role: str) -> list[dict]:
    return [read_json(d / "metrics.json") for d in run_dirs(config, role)]


def _acc(config: dict, role: str) -> tuple[float, float, int, str]:
    from nasrepro.reporting.tables import fmt_mean_std, mean_std

    m, s, n = mean_std([r["test_acc"] for r in _metrics(config, role)])
    return m, s, n, fmt_mean_std(m, s, n)


def _rel(config: dict, path: Path) -> str:
    return str(path.relative_to(profile_dir(config)))


def _joined(config: dict, dirs: list[Path]) -> str:
    """``;``-joined dirs relative to ``results/<profile>`` (a table row's ``run_dirs``)."""
    return ";".join(_rel(config, d) for d in dirs)


def _recipe_text(r: dict) -> str:
    return (f"{r['optimizer']} lr={r['lr']:.3g} wd={r['weight_decay']:.2g} "
            f"ls={r['label_smoothing']:.2f} mixup={r['mixup_alpha']:.2f} "
            f"drop={r['dropout']:.2f} dp={r['drop_path']:.2f} ema={'on' if r['ema'] else 'off'} "
            f"ep={r['epochs']}")


# --- tables ---------------------------------------------------------------------------------
def _units(config: dict) -> list[tuple[str, str]]:
    """(role suffix, row label suffix) of the main searches and each replicate search seed."""
    return [("", ""), *((f"_s{k}", f", search seed {k}") for k in replicate_search_seeds(config))]


def recipe_swap_table(config: dict) -> pd.DataFrame:
    """Rows: arch A, arch B (then both again per replicate search seed); columns: accuracy with
    recipe A and with recipe B; ``run_dirs``: the retrain dirs of both recipes."""
    rows = []
    for suffix, label in _units(config):
        for arch in ("A", "B"):
            m0 = _metrics(config, f"swap/{arch}_recipe{arch}{suffix}")[0]
            row: dict[str, Any] = {"arch": f"searched {arch}{label}",
                                   "macs_m": round(m0["macs"] / 1e6, 4),
                                   "params_m": round(m0["params"] / 1e6, 4)}
            for rec in ("A", "B"):
                mean, std, n, text = _acc(config, f"swap/{arch}_recipe{rec}{suffix}")
                row[f"recipe_{rec}"] = text
                row[f"recipe_{rec}_mean"] = round(mean, 4)
                row[f"recipe_{rec}_std"] = round(std, 4)
            other = "B" if arch == "A" else "A"
            row["own_minus_swapped"] = round(row[f"recipe_{arch}_mean"]
                                             - row[f"recipe_{other}_mean"], 4)
            row["n"] = n
            swaps = [f"swap/{arch}_recipe{rec}{suffix}" for rec in ("A", "B")]
            row["run_dirs"] = _joined(config, [d for r in swaps for d in run_dirs(config, r)])
            rows.append(row)
    return pd.DataFrame(rows)


def autotrain_table(config: dict) -> pd.DataFrame:
    """Rows: default and searched recipe on AutoTrain's fixed arch (then both again per
    replicate search seed, at that unit's retrain seeds); ``run_dirs``: retrain dirs."""
    rows = []
    for suffix, label in _units(config):
        for name in ("default", "autotrain"):
            role = f"autotrain/{name}{suffix}"
            ms = _metrics(config, role)
            mean, std, n, text = _acc(config, role)
            rows.append({"recipe": f"{name}{label}", "arch_id": ms[0]["arch_id"],
                         "macs_m": round(ms[0]["macs"] / 1e6, 4), "top1": text,
                         "top1_mean": round(mean, 4), "top1_std": round(std, 4), "n": n,
                         "recipe_values": _recipe_text(ms[0]["recipe"]),
                         "run_dirs": _joined(config, run_dirs(config, role))})
    return pd.DataFrame(rows)


def predictor_table(config: dict) -> pd.DataFrame:
    """Per predictor method: ranking quality over predictor seeds; ``run_dirs``: the predictor
    dir."""
    from nasrepro.reporting.tables import fmt_mean_std, mean_std

    pdir = profile_dir(config) / PREDICTOR_DIR
    runs = pd.read_csv(pdir / "predictor_runs.csv")
    rows = []
    for method in methods_of(config, "fbnetv3", "predictor"):
        sub = runs[runs["method"] == method]
        row: dict[str, Any] = {"predictor": method}
        for col in ("kendall_tau", "spearman", "rmse"):
            mean, std, n = mean_std(sub[col])
            row[col] = fmt_mean_std(mean, std, n, 3)
            row[f"{col}_mean"] = round(mean, 4)
        row["n_seeds"] = int(len(sub))
        row["n_train"] = int(sub["n_train"].iloc[0])
        row["n_test"] = int(sub["n_test"].iloc[0])
        row["run_dirs"] = _joined(config, [pdir])
        rows.append(row)
    return pd.DataFrame(rows)


def early_stopping_table(config: dict) -> pd.DataFrame:
    """Per search and epoch: rank correlation with the final ranking; ``run_dirs``: the search
    dir."""
    rows = []
    for budget, mode in SEARCHES:
        d = search_dir(config, budget, mode)
        es = pd.read_csv(d / "early_stop.csv")
        summary = read_json(d / "summary.json")
        for r in es.itertuples(index=False):
            rows.append({"search": f"{budget}_{mode}", "epoch": int(r.epoch),
                         "rank_corr": round(float(r.corr), 4), "threshold": float(r.threshold),
                         "chosen": bool(r.chosen),
                         "fraction_of_full": round(int(r.epoch) / summary["full_epochs"], 4),
                         "run_dirs": _joined(config, [d])})
    return pd.DataFrame(rows)


def search_table(config: dict) -> pd.DataFrame:
    """Joint vs arch-only search, one row per search (the main searches, then each replicate
    search seed's pair); ``run_dirs``: the search dir and the best arch's retrain dirs."""
    searches = [("joint (arch + recipe)", "A_joint", "swap/A_recipeA"),
                ("arch only (default recipe)", "A_arch_only", "search/arch_only")]
    for k in replicate_search_seeds(config):
        searches += [(f"joint (arch + recipe), search seed {k}", f"A_joint@{k}",
                      f"swap/A_recipeA_s{k}"),
                     (f"arch only (default recipe), search seed {k}", f"A_arch_only@{k}",
                      f"search/arch_only_s{k}")]
    rows = []
    for name, search, role in searches:
        d = profile_dir(config) / search_run(config, search)
        s, best = read_json(d / "summary.json"), read_json(d / "best.json")
        mean, std, n, text = _acc(config, role)
        rows.append({"search": name, "macs_limit_m": round(s["macs_limit"] / 1e6, 4),
                     "macs_m": round(best["macs"] / 1e6, 4),
                     "params_m": round(best["params"] / 1e6, 4),
                     "predicted": round(best["predicted"], 3),
                     "search_measured": round(best["measured"], 3), "picked_from": best["source"],
                     "top1": text,
                     "top1_mean": round(mean, 4), "top1_std": round(std, 4), "n": n,
                     "trained_candidates": s["n_trained"], "trained_epochs": s["trained_epochs"],
                     "fine_generations": s["fine_generations"],
                     "run_dirs": _joined(config, [d, *run_dirs(config, role)])})
    return pd.DataFrame(rows)


def role_search(config: dict, role: str) -> str:
    """The search (a :func:`search_run` name) a retrain role's replicate is conditional on:
    the search its arch comes from, else its recipe's; AutoTrain's comparator (the default
    recipe on the fixed arch, no search) belongs to the AutoTrain search of its unit."""
    arch, recipe = role_sources(config)[role]
    if role.startswith("autotrain/default"):
        k = replicate_of(role)
        return "A_autotrain" if k is None else f"A_autotrain@{k}"
    return arch or recipe


def _search_unit(config: dict, search: str) -> str:
    d = profile_dir(config) / search_run(config, search)
    return f"search seed {read_json(d / 'summary.json')['seed']}"


def _stratified_predictor_taus(config: dict) -> list[dict]:
    """Held-out Kendall tau of every (method, seed) within each budget's candidates, averaged
    over budgets weighted by held-out candidates (claim F3); ``n_train``/``n_test`` per split."""
    from nasrepro.io import read_jsonl
    from nasrepro.metrics.ranking import kendall_tau

    pdir = profile_dir(config) / PREDICTOR_DIR
    prov = pdir / "provenance.json"
    # the study concatenates the candidates of its search dirs in order (provenance)
    names = [Path(d).parent.name for d in read_json(prov).get("search_dirs", [])] \
        if prov.exists() else []
    budget_of: list[str] = []
    for name in names or ["A_joint", "B_joint"]:
        cands = search_dir(config, *name.split("_", 1)) / "candidates.jsonl"
        budget_of += [name.split("_")[0]] * len(read_jsonl(cands))
    preds = pd.read_csv(pdir / "predictions.csv")
    runs = pd.read_csv(pdir / "predictor_runs.csv")
    rows = []
    for (method, seed), sub in preds.groupby(["method", "seed"], sort=True):
        taus, weights = [], []
        budgets = [budget_of[i] if i < len(budget_of) else "?" for i in sub["index"]]
        for b in sorted(set(budgets)):
            part = sub[[x == b for x in budgets]]
            t = kendall_tau(part["predicted"].to_numpy(), part["measured"].to_numpy())
            if np.isfinite(t):
                taus.append(t)
                weights.append(len(part))
        r = runs[(runs["method"] == method) & (runs["seed"] == seed)].iloc[0]
        base = {"group": method, "seed": int(seed), "run_dir": _rel(config, pdir)}
        if taus:
            rows.append({**base, "quantity": "predictor_tau_strat",
                         "value": float(np.average(taus, weights=weights))})
        rows.append({**base, "quantity": "predictor_n_train", "value": float(r["n_train"])})
        rows.append({**base, "quantity": "predictor_n_test", "value": float(r["n_test"])})
    return rows


def _heldout_early_stop(config: dict, budget: str, mode: str) -> list[dict]:
    """Claim F4 on held-out candidates: Kendall tau between the accuracy at the epoch chosen on
    the first coarse iteration and the final accuracy, over later-iteration candidates that
    were trained to the end (``heldout: true`` in candidates.jsonl); none: no rows."""
    from nasrepro.io import read_jsonl
    from nasrepro.metrics.ranking import kendall_tau

    d = search_dir(config, budget, mode)
    s = read_json(d / "summary.json")
    held = [e for e in read_jsonl(d / "candidates.jsonl")
            if e.get("heldout") and int(e.get("iteration", 0)) > 0
            and len(e["curve"]) > int(s["stop_epoch"])]
    if len(held) < 3 or s["stop_epoch"] >= s["full_epochs"]:
        return []
    at = [float(e["curve"][int(s["stop_epoch"]) - 1]) for e in held]
    final = [float(e["curve"][-1]) for e in held]
    base = {"group": "heldout", "seed": int(s["seed"]), "run_dir": _rel(config, d),
            "unit": f"search {budget}_{mode}"}
    return [{**base, "quantity": "early_stop_heldout_tau", "value": kendall_tau(at, final)},
            {**base, "quantity": "early_stop_heldout_n", "value": float(len(held))}]


def measurements(config: dict) -> pd.DataFrame:
    """Tidy ``quantity,group,seed,value,run_dir,unit`` rows of every number of claims F1-F5.

    ``unit`` names the independent replicate: the search a retrained arch/recipe came from
    (its retrain seeds are replicates conditional on it) or the search of an early-stopping
    number. Also ``retrain_macs`` per role (cost match of F5), ``predictor_tau_strat`` and
    the split sizes (F3), held-out early-stopping taus when the search trained some (F4).
    """
    rows = []
    for role, (quantity, group) in roles(config).items():
        unit = _search_unit(config, role_search(config, role))
        for d in run_dirs(config, role):
            m = read_json(d / "metrics.json")
            for q, v in ((quantity, m["test_acc"]), ("retrain_macs", m["macs"])):
                rows.append({"quantity": q, "group": group, "seed": m["seed"],
                             "value": v, "run_dir": _rel(config, d), "unit": unit})
    # F5's joint arm is the recipe-swap role A:recipeA of each search seed (the joint search's
    # own arch and recipe)
    for suffix, _ in _units(config):
        role = f"swap/A_recipeA{suffix}"
        unit = _search_unit(config, role_search(config, role))
        for d in run_dirs(config, role):
            m = read_json(d / "metrics.json")
            for q, v in (("search_acc", m["test_acc"]), ("retrain_macs", m["macs"])):
                rows.append({"quantity": q, "group": "joint", "seed": m["seed"],
                             "value": v, "run_dir": _rel(config, d), "unit": unit})
    pdir = profile_dir(config) / PREDICTOR_DIR
    runs = pd.read_csv(pdir / "predictor_runs.csv")
    for r in runs.itertuples(index=False):
        rows.append({"quantity": "predictor_tau", "group": r.method, "seed": int(r.seed),
                     "value": float(r.kendall_tau), "run_dir": _rel(config, pdir)})
    rows += _stratified_predictor_taus(config)
    for budget, mode in SEARCHES:
        d = search_dir(config, budget, mode)
        s = read_json(d / "summary.json")
        for q, v in (("early_stop_corr", s["corr_at_stop"]),
                     ("early_stop_fraction", s["early_stop_fraction"])):
            rows.append({"quantity": q, "group": "chosen_epoch", "seed": s["seed"],
                         "value": float(v), "run_dir": _rel(config, d),
                         "unit": f"search {budget}_{mode}"})
        rows += _heldout_early_stop(config, budget, mode)
    return pd.DataFrame(rows, columns=["quantity", "group", "seed", "value", "run_dir", "unit"])


def _wall_h(config: dict, dirs: list[Path]) -> float:
    return round(sum(read_json(d / "provenance.json")["wall_time_s"] for d in dirs) / 3600, 6)


def leaderboard(config: dict) -> pd.DataFrame:
    """One row per trained (arch, recipe) role."""
    from nasrepro.reporting.tables import mean_std

    proxy = profile_dir(config) / PRETRAIN_DIR
    rows = []
    for role, sources in role_sources(config).items():
        # search cost: the searches the arch and recipe come from, and the proxy they all used
        searches = list(dict.fromkeys(s for s in sources if s))
        cost = [profile_dir(config) / search_run(config, s) for s in searches]
        cost += [proxy] if cost else []
        ms = _metrics(config, role)
        mean, std, n = mean_std([m["test_acc"] for m in ms])
        rows.append({"paper": "fbnetv3", "method": role.replace("/", ":"),
                     "space": ms[0]["space"], "arch_id": ms[0]["arch_id"],
                     "arch": json.dumps({"arch": ms[0]["arch"], "recipe": ms[0]["recipe"]},
                                        separators=(",", ":"), sort_keys=True),
                     "macs": ms[0]["macs"], "params": ms[0]["params"], "acc_mean": mean,
                     "acc_std": std, "n": n, "search_cost_h": _wall_h(config, cost),
                     "run_dirs": ";".join(_rel(config, d) for d in run_dirs(config, role))})
    return pd.DataFrame(rows)


def write_tables(config: dict, out_dir: str | Path) -> dict[str, pd.DataFrame]:
    """Write the five tables into ``out_dir``; return the measurements and leaderboard rows."""
    from nasrepro.reporting.tables import write_table

    out = Path(out_dir)
    p = config["profile"]
    write_table(recipe_swap_table(config), out / "fbnetv3_recipe_swap",
                caption=f"FBNetV3 recipe swap ({p}): test top-1 % of the searched archs with "
                        f"their own and the swapped recipe.")
    write_table(autotrain_table(config), out / "fbnetv3_autotrain",
                caption=f"FBNetV3 AutoTrain ({p}): fixed arch, default vs searched recipe.")
    write_table(predictor_table(config), out / "fbnetv3_predictor", float_digits=3,
                caption=f"FBNetV3 predictor ({p}): ranking quality on held-out measured "
                        f"candidates.")
    write_table(early_stopping_table(config), out / "fbnetv3_early_stopping", float_digits=3,
                caption=f"FBNetV3 early stopping ({p}): rank correlation with the final "
                        f"ranking per epoch.")
    write_table(search_table(config), out / "fbnetv3_search",
                caption=f"FBNetV3 joint vs arch-only search at the same MACs budget ({p}).")
    return {"measurements": measurements(config), "leaderboard": leaderboard(config)}


# --- figures --------------------------------------------------------------------------------
def write_figures(config: dict, out_dir: str | Path) -> None:
    """Write fbnetv3_early_stopping, fbnetv3_predictor and fbnetv3_search (.pdf, .png)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from nasrepro.metrics.ranking import kendall_tau_ci
    from nasrepro.reporting.figures import plot_scatter_with_tau, save_figure, tau_text

    out = Path(out_dir)
    p = config["profile"]
    fig, ax = plt.subplots(figsize=(5, 3.5))
    th = None
    for budget, mode in SEARCHES:
        es = pd.read_csv(search_dir(config, budget, mode) / "early_stop.csv")
        line, = ax.plot(es["epoch"], es["corr"], marker="o", label=f"{budget} {mode}")
        chosen = es[es["chosen"] == 1]
        ax.scatter(chosen["epoch"], chosen["corr"], s=120, facecolors="none",
                   edgecolors=line.get_color(), zorder=3)
        th = float(es["threshold"].iloc[0])
    if th is not None:
        ax.axhline(th, color="grey", ls="--", lw=1, label="threshold")
    ax.set_xlabel("epoch")
    ax.set_ylabel("rank corr. with final ranking")
    ax.set_title(f"FBNetV3 early stopping ({p}); circles: chosen epoch", fontsize="medium")
    ax.legend(fontsize="small")
    fig.tight_layout()
    save_figure(fig, out / "fbnetv3_early_stopping")
    plt.close(fig)

    preds = pd.read_csv(profile_dir(config) / PREDICTOR_DIR / "predictions.csv")
    methods = methods_of(config, "fbnetv3", "predictor")
    seed0 = config["fbnetv3"]["predictor_seeds"][0]
    fig, axes = plt.subplots(1, len(methods), figsize=(4 * len(methods), 3.8), squeeze=False)
    for ax, method in zip(axes[0], methods, strict=True):
        sub = preds[(preds["method"] == method) & (preds["seed"] == seed0)]
        x, y = sub["predicted"].to_numpy(), sub["measured"].to_numpy()
        tau = kendall_tau_ci(x, y, seed=0)
        plot_scatter_with_tau(x, y, None, tau_ci=tau, xlabel="predicted val top-1 (%)",
                              ylabel="measured val top-1 (%)", ax=ax)
        ax.set_title(f"{method}\n{tau_text(tau)}", fontsize="small")
    fig.suptitle(f"FBNetV3 predictor on held-out candidates ({p}, seed {seed0})",
                 fontsize="medium")
    fig.tight_layout()
    save_figure(fig, out / "fbnetv3_predictor")
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for budget, mode in (("A", "joint"), ("A", "arch_only"), ("B", "joint")):
        df = pd.read_csv(search_dir(config, budget, mode) / "coarse.csv")
        line, = ax.plot(df["iteration"], df["best_predicted"], marker=".",
                        label=f"{budget} {mode}: best predicted")
        coarse = df[df["stage"] == "coarse"]
        ax.plot(coarse["iteration"], coarse["best_measured"], ls="--", marker="s",
                color=line.get_color(), label=f"{budget} {mode}: best measured")
    n_coarse = int(config["fbnetv3"]["coarse"]["iterations"])
    ax.axvline(n_coarse - 0.5, color="grey", lw=1, ls=":")
    ax.set_xlabel("coarse iteration | fine generation")
    ax.set_ylabel("val top-1 (%)")
    ax.set_title(f"FBNetV3 search ({p})", fontsize="medium")
    ax.legend(fontsize="x-small")
    fig.tight_layout()
    save_figure(fig, out / "fbnetv3_search")
    plt.close(fig)
