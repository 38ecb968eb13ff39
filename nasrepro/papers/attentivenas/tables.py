"""AttentiveNAS tables and figures (Wang et al. 2021, Fig. 4-6 and the predictor study), from
the pipeline's result files (see :mod:`nasrepro.papers.attentivenas.experiment`).

Per main supernet (sampler x seed) the evaluated points are the fixed subnet set plus the common
candidate set, the union of every main Pareto search's candidates (``(MACs, supernet val top-1
%)``, one per arch; the common study's ``common.csv``), so every supernet's front is built from
the same archs and only the supernet differs (issue 12: common random numbers at the arch
level). From them:

* the best accuracy in each MACs bucket of ``prior.json``'s ``report_edges``;
* the hypervolume of the front, with MACs as a fraction of the max subnet's and the common
  reference point ``(1.0, chance accuracy)``, so values compare across samplers and seeds;
* the min and max subnets' accuracies.

Tables: ``attentivenas_pareto`` (per sampler: mean ± std over seeds of each bucket's best,
hypervolume, min/max subnet) and ``attentivenas_predictor`` (Kendall tau with bootstrap CI of
the RF predictor, short vs long, seed vs seed). Also ``attentivenas_measurements.csv`` (tidy,
claims A1-A3) and ``attentivenas_leaderboard.csv`` (empty: this study retrains no arch).
Figures: ``attentivenas_pareto``, ``attentivenas_predictor``, ``attentivenas_sampling``.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nasrepro.config import methods_of, profile_dir, seeds_of
from nasrepro.errors import DataError
from nasrepro.io import read_json
from nasrepro.papers.attentivenas.grid import (
    COMMON_CSV,
    PREDICTOR_DIR,
    PRIOR_DIR,
    eval_path,
    supernet_path,
)
from nasrepro.reporting.leaderboard import COLUMNS as LEADERBOARD_COLUMNS

MEASUREMENT_COLUMNS = ["quantity", "group", "seed", "value", "run_dir"]


def sampler_label(config: dict, sampler: str) -> str:
    """Display name: ``uniform``, ``BestUp-3``, ``WorstUp-3`` (``(pred.)`` with the predictor)."""
    att = config["attentivenas"]["attentive"]
    suffix = " (pred.)" if att["scorer"] == "predictor" else ""
    names = {"bestup": "BestUp", "worstup": "WorstUp"}
    if sampler in names:
        return f"{names[sampler]}-{att['k']}{suffix}"
    return sampler


def _run_dir(config: dict, sampler: str, seed: int) -> Path:
    """A main supernet's run dir."""
    return profile_dir(config) / supernet_path("main", sampler, seed)


def _eval_dir(config: dict, training: str, sampler: str, seed: int) -> str:
    """A supernet's eval dir (fixed subnets + Pareto search), relative to ``results/<p>``."""
    return eval_path(training, sampler, seed)


def _common(config: dict) -> pd.DataFrame:
    """The common study's ``common.csv`` (every main supernet on the union of the searches'
    candidates)."""
    return pd.read_csv(profile_dir(config) / COMMON_CSV, dtype={"arch_id": str})


def _points(config: dict, sampler: str, seed: int,
            common: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every evaluated subnet of one main supernet: ``arch_id, macs, acc, source, arch``: its
    fixed subnets (``subnets.csv``) and the common candidate set (``common.csv``)."""
    d = profile_dir(config) / eval_path("main", sampler, seed)
    rows: dict[str, dict[str, Any]] = {}
    with open(d / "subnets.csv", newline="") as f:
        for r in csv.DictReader(f):
            rows[r["arch_id"]] = {"arch_id": r["arch_id"], "macs": int(r["macs"]),
                                  "acc": float(r["acc"]), "source": r["name"],
                                  "arch": r["arch"]}
    common = _common(config) if common is None else common
    mine = common[(common["sampler"] == sampler) & (common["seed"] == seed)]
    if mine.empty:
        raise DataError(f"{COMMON_CSV} has no rows of main/{sampler}/seed{seed}; rerun the "
                        "common study (rule attentivenas_common)")
    for r in mine.itertuples():
        rows.setdefault(r.arch_id, {"arch_id": r.arch_id, "macs": int(r.macs),
                                    "acc": float(r.acc), "source": "search", "arch": r.arch})
    return pd.DataFrame(list(rows.values()))


def _prior(config: dict) -> dict:
    return read_json(profile_dir(config) / PRIOR_DIR / "prior.json")


def _chance(config: dict) -> float:
    from nasrepro.papers.attentivenas.experiment import space_of

    return 100.0 / space_of(config).cfg.num_classes


def run_metrics(config: dict, sampler: str, seed: int) -> dict[str, float]:
    """``hypervolume``, ``best_acc_bucket<i>``, ``min_subnet_acc``, ``max_subnet_acc``."""
    from nasrepro.metrics.pareto import best_in_buckets, hypervolume_2d

    prior = _prior(config)
    pts = _points(config, sampler, seed)
    out: dict[str, float] = {}
    norm = [(m / prior["macs_max"], a) for m, a in zip(pts["macs"], pts["acc"], strict=True)]
    out["hypervolume"] = hypervolume_2d(norm, ref=(1.0, _chance(config)))
    for i, v in enumerate(best_in_buckets(pts["macs"], pts["acc"], prior["report_edges"])):
        out[f"best_acc_bucket{i}"] = v
    src = dict(zip(pts["source"], pts["acc"], strict=False))
    out["min_subnet_acc"] = float(src.get("min", math.nan))
    out["max_subnet_acc"] = float(src.get("max", math.nan))
    return out


def _bucket_names(prior: dict) -> list[str]:
    e = prior["report_edges"]
    return [f"{e[i] / 1e6:.2f}-{e[i + 1] / 1e6:.2f}M" for i in range(len(e) - 1)]


def build_pareto_table(config: dict) -> pd.DataFrame:
    """Per sampler: best accuracy per MACs bucket, hypervolume, min/max subnet (mean ± std);
    ``run_dirs``: the sampler's main supernet eval dirs of every seed."""
    from nasrepro.reporting.tables import fmt_mean_std, mean_std

    prior = _prior(config)
    names = _bucket_names(prior)
    rows = []
    for sampler in methods_of(config, "attentivenas", "sampler"):
        per_seed = [run_metrics(config, sampler, s) for s in seeds_of(config, "attentivenas")]
        row: dict[str, Any] = {"sampler": sampler_label(config, sampler), "method": sampler}
        for i, name in enumerate(names):
            m, sd, n = mean_std([r[f"best_acc_bucket{i}"] for r in per_seed])
            row[f"top1 {name}"] = fmt_mean_std(m, sd, n)
        for key, col, digits in (("hypervolume", "hypervolume", 3),
                                 ("min_subnet_acc", "min subnet", 2),
                                 ("max_subnet_acc", "max subnet", 2)):
            m, sd, n = mean_std([r[key] for r in per_seed])
            row[col] = fmt_mean_std(m, sd, n, digits=digits)
            row[f"{key}_mean"] = round(m, 4) if math.isfinite(m) else m
            row[f"{key}_std"] = round(sd, 4) if math.isfinite(sd) else sd
        row["n"] = len(per_seed)
        row["run_dirs"] = ";".join(_eval_dir(config, "main", sampler, s)
                                   for s in seeds_of(config, "attentivenas"))
        rows.append(row)
    return pd.DataFrame(rows)


def _predictor(config: dict) -> dict:
    return read_json(profile_dir(config) / PREDICTOR_DIR / "predictor.json")


def _predictor_name(config: dict) -> str:
    """The configured predictor (``attentivenas.methods.predictor``); the paper's random forest
    shows as RF."""
    method = methods_of(config, "attentivenas", "predictor")[0]
    return {"random_forest": "RF"}.get(method, method)


def build_predictor_table(config: dict) -> pd.DataFrame:
    """Kendall tau with bootstrap CI: the predictor (``attentivenas.methods.predictor``; the
    paper's random forest shows as RF), short vs long, seed vs seed; ``run_dirs``:
    the predictor dir and the eval dirs of the supernets compared."""
    res = _predictor(config)
    short = _predictor_name(config)
    sampler = res["sampler"]
    label = sampler_label(config, sampler)
    sl, ss = res["short_long"], res["seed_seed"]
    long0 = _eval_dir(config, "main", sampler, res["seed"])
    spec = [
        (f"{short} predictor vs supernet (held-out subnets)", res["predictor"],
         f"{label} s{res['seed']}, {short} on {res['predictor']['n_train']} subnets", [long0]),
        (f"short ({sl['short_epochs']} ep) vs long ({sl['long_epochs']} ep) training", sl,
         f"{label} s{res['seed']}", [_eval_dir(config, "short", sampler, res["seed"]), long0]),
        ("seed vs seed", ss, f"{label} s{'/s'.join(str(s) for s in ss['seeds'])}",
         [_eval_dir(config, "main", sampler, s) for s in ss["seeds"]]),
    ]
    pdir = PREDICTOR_DIR  # predictor.json, relative to results/<p>
    rows = []
    for name, d, what, dirs in spec:
        rows.append({"comparison": name, "supernets": what, "tau": d["tau"], "ci_low": d["low"],
                     "ci_high": d["high"], "pvalue": d["pvalue"], "n": int(d["n"]),
                     "run_dirs": ";".join([pdir, *dirs])})
    return pd.DataFrame(rows)


def measurements(config: dict) -> pd.DataFrame:
    """Tidy ``quantity, group, seed, value, run_dir`` of every number claims A1-A3 read."""
    base = profile_dir(config)
    rows = []
    for sampler in methods_of(config, "attentivenas", "sampler"):
        for seed in seeds_of(config, "attentivenas"):
            run = str(_run_dir(config, sampler, seed).relative_to(base))
            for q, v in run_metrics(config, sampler, seed).items():
                rows.append({"quantity": q, "group": sampler, "seed": seed, "value": v,
                             "run_dir": run})
    res = _predictor(config)
    pdir = PREDICTOR_DIR
    for q, key in (("predictor_tau", "predictor"), ("short_long_tau", "short_long"),
                   ("seed_seed_tau", "seed_seed")):
        # the tau, its bootstrap CI and its number of subnets (one supernet: no seed spread)
        for suffix, field in (("", "tau"), ("_ci_low", "low"), ("_ci_high", "high"),
                              ("_n", "n")):
            rows.append({"quantity": q + suffix, "group": res["sampler"], "seed": res["seed"],
                         "value": res[key][field], "run_dir": pdir})
    # the sampler variant (claim A2's guard: the paper's ordering is for k = 50 with the
    # accuracy predictor as the scorer) and chance accuracy (guards)
    att = config["attentivenas"]["attentive"]
    seed0 = seeds_of(config, "attentivenas")[0]
    for sampler in methods_of(config, "attentivenas", "sampler"):
        if sampler in ("bestup", "worstup"):
            for q, v in (("attentive_k", float(att["k"])),
                         ("attentive_scorer_predictor", float(att["scorer"] == "predictor"))):
                rows.append({"quantity": q, "group": sampler, "seed": seed0, "value": v,
                             "run_dir": str(_run_dir(config, sampler, seed0).relative_to(base))})
    rows.append({"quantity": "chance_acc", "group": "all", "seed": seed0,
                 "value": _chance(config), "run_dir": pdir})
    return pd.DataFrame(rows, columns=MEASUREMENT_COLUMNS)


def write_tables(config: dict, out_dir: str | Path) -> dict[str, pd.DataFrame]:
    """Write attentivenas_pareto / _predictor (.csv/.md/.tex) into ``out_dir``; return the
    measurements and (empty) leaderboard rows."""
    from nasrepro.reporting.tables import write_table

    out_dir = Path(out_dir)
    write_table(build_pareto_table(config), out_dir / "attentivenas_pareto",
                caption="AttentiveNAS: best supernet val top-1 (%) per MACs bucket over the "
                        "fixed subnets and the common candidate set (every main search's "
                        "candidates, scored on every supernet), hypervolume (MACs / max MACs x "
                        "top-1 % above chance), mean ± std over seeds.")
    write_table(build_predictor_table(config), out_dir / "attentivenas_predictor",
                caption="AttentiveNAS predictor study: Kendall tau with 95% bootstrap CI.",
                float_digits=3)
    # this study compares supernets and retrains no arch: the leaderboard has no rows
    return {"measurements": measurements(config),
            "leaderboard": pd.DataFrame(columns=LEADERBOARD_COLUMNS)}


def write_figures(config: dict, out_dir: str | Path) -> None:
    """Write attentivenas_pareto, _predictor and _sampling (.pdf and .png)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from nasrepro.metrics.pareto import pareto_front
    from nasrepro.reporting.figures import plot_scatter_with_tau, save_figure

    out_dir = Path(out_dir)
    prior = _prior(config)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]

    # Pareto fronts
    fig, ax = plt.subplots(figsize=(5.5, 4))
    for j, sampler in enumerate(methods_of(config, "attentivenas", "sampler")):
        c = colors[j % len(colors)]
        for k, seed in enumerate(seeds_of(config, "attentivenas")):
            pts = _points(config, sampler, seed)
            xy = list(zip(pts["macs"] / 1e6, pts["acc"], strict=True))
            front = [xy[i] for i in pareto_front(xy)]
            ax.scatter([p[0] for p in xy], [p[1] for p in xy], s=6, color=c, alpha=0.2)
            ax.step([p[0] for p in front], [p[1] for p in front], where="post", color=c,
                    alpha=0.9, lw=1.3, label=sampler_label(config, sampler) if k == 0 else None)
    for e in prior["report_edges"][1:-1]:
        ax.axvline(e / 1e6, color="grey", lw=0.6, ls=":")
    ax.set_xlabel("MACs (M)")
    ax.set_ylabel("supernet val top-1 (%)")
    ax.set_title(f"AttentiveNAS Pareto fronts, one line per seed ({config['profile']})",
                 fontsize="medium")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    fig.tight_layout()
    save_figure(fig, out_dir / "attentivenas_pareto")
    plt.close(fig)

    # predictor: predicted vs true
    res = _predictor(config)
    p = res["predictor"]
    fig, ax = plt.subplots(figsize=(4.5, 4))
    plot_scatter_with_tau(p["pred"], p["true"], None, p,
                          xlabel=f"{_predictor_name(config)}-predicted val top-1 (%)",
                          ylabel="supernet val top-1 (%)", ax=ax)
    ax.set_title(f"AttentiveNAS predictor, held-out subnets\n{ax.get_title()}",
                 fontsize="medium")
    fig.tight_layout()
    save_figure(fig, out_dir / "attentivenas_predictor")
    plt.close(fig)

    # sampling: MACs of the trained middle subnets per sampler vs the prior
    hist = prior["histogram"]
    edges = np.asarray(hist["edges"]) / 1e6
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    widths = np.diff(edges)
    ax.stairs(np.asarray(hist["probs"]) / widths, edges, color="black", lw=1.0,
              label="prior p(MACs)")
    # 3 bins per prior bucket: attentive samplers always train a subnet of the drawn bucket,
    # so BestUp and WorstUp differ only inside the buckets
    fine = np.linspace(edges[0], edges[-1], 3 * (len(edges) - 1) + 1)
    styles = ["-", "--", ":", "-."]
    for j, sampler in enumerate(methods_of(config, "attentivenas", "sampler")):
        macs = []
        for seed in seeds_of(config, "attentivenas"):
            df = pd.read_csv(_run_dir(config, sampler, seed) / "sampled_macs.csv")
            macs.extend((df["macs"] / 1e6).tolist())
        ax.hist(macs, bins=fine, density=True, histtype="step", lw=1.4,
                color=colors[j % len(colors)], ls=styles[j % len(styles)],
                label=f"{sampler_label(config, sampler)} (n={len(macs)})")
    ax.set_xlabel("MACs of the trained middle subnets (M)")
    ax.set_ylabel("density")
    ax.set_title(f"AttentiveNAS sampled subnets ({config['profile']})", fontsize="medium")
    ax.legend(fontsize="small")
    fig.tight_layout()
    save_figure(fig, out_dir / "attentivenas_sampling")
    plt.close(fig)
