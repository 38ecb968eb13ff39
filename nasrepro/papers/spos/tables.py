"""SPOS Tables 3 and 4 and its two figures, assembled from the pipeline's result files.

Rows are named as in the paper (Guo et al. 2019, Tables 3 and 4); each row aggregates the
retrain runs of one role (see :mod:`nasrepro.papers.spos.experiment`): MACs and params (mean
over the runs' archs), top-1 test accuracy mean ± std (n). The published ImageNet numbers are
shown in ``paper_*`` columns for reference only; every other number comes from a run.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from nasrepro.config import methods_of, profile_dir
from nasrepro.io import read_json
from nasrepro.papers.spos.grid import (
    INHERIT_CSV,
    retrain_path,
    retrain_paths,
    role_seeds,
    search_path,
    supernet_path,
    supernet_seeds,
)

#: published ImageNet numbers: (MACs in M or None, top-1 %), Tables 3 and 4 of the paper
PAPER_T3 = {
    "all choice_3": (324, 73.4), "all choice_5": (321, 73.5), "all choice_7": (327, 73.6),
    "all choice_x": (326, 73.5), "random select": (320, 73.7),
    "SPS + random search": (323, 73.8), "ours (fully-equipped)": (319, 74.3),
}
PAPER_T4 = {
    "all choice_3": (324, 73.4), "rand sel. channels": (None, 73.1),
    "choice_3 + channel search": (329, 73.9), "rand sel. blocks + channels": (None, 73.4),
    "block search": (319, 74.3), "block search + channel search": (328, 74.7),
}


def _search_row_name(sampler: str, searcher: str, main_sampler: str) -> str:
    if sampler == main_sampler and searcher == "evolution":
        return "ours (fully-equipped)"
    if sampler == main_sampler and searcher == "random":
        return "SPS + random search"
    prefix = "SPS" if sampler == main_sampler else f"SPS ({sampler})"
    return f"{prefix} + {searcher}"


def table_roles(config: dict) -> dict[int, list[tuple[str, str]]]:
    """``{3: [(row name, role), ...], 4: [...]}`` in the paper's row order."""
    sp = config["spos"]
    main_s, main_q = sp["main_sampler"], sp["main_searcher"]
    n = sp["n_random"]
    t3 = [(f"all choice_{c}", f"fixed/all_choice_{c}") for c in ("3", "5", "7", "x")]
    t3.append((f"random select ({n} times)", "random/block"))
    order = {"random": 0, "evolution": 1}
    combos = sorted(((s, q) for s in methods_of(config, "spos", "sampler")
                     for q in methods_of(config, "spos", "searcher")),
                    key=lambda sq: (sq[0] != main_s, order.get(sq[1], 2), sq))
    t3 += [(_search_row_name(s, q, main_s), f"search/block/{s}/{q}") for s, q in combos]
    t4 = [
        ("all choice_3", "fixed/all_choice_3"),
        (f"rand sel. channels ({n} times)", "random/channel"),
        ("choice_3 + channel search", f"search/channel/{main_s}/{main_q}"),
        (f"rand sel. blocks + channels ({n} times)", "random/block_channel"),
        ("block search", f"search/block/{main_s}/{main_q}"),
        ("block search + channel search", f"search/block_channel/{main_s}/{main_q}"),
    ]
    return {3: t3, 4: t4}


def _run_dirs(config: dict, role: str) -> list[Path]:
    """Retrain run directories of a role, relative to ``results/<profile>``."""
    return [Path(p) for p in retrain_paths(config, role)]


def _runs(config: dict, role: str) -> list[dict]:
    root = profile_dir(config)
    return [read_json(root / d / "metrics.json") for d in _run_dirs(config, role)]


def build_table(config: dict, number: int) -> pd.DataFrame:
    """One of the two tables as a DataFrame (numeric columns plus a formatted top-1)."""
    from nasrepro.reporting.tables import fmt_mean_std, mean_std

    paper = PAPER_T3 if number == 3 else PAPER_T4
    rows = []
    for name, role in table_roles(config)[number]:
        runs = _runs(config, role)
        mean, std, n = mean_std([r["test_acc"] for r in runs])
        key = name.split(" (")[0] if "times" in name else name
        p_macs, p_top1 = paper.get(key, (None, None))
        rows.append({
            "row": name,
            "macs_m": round(float(np.mean([r["macs"] for r in runs])) / 1e6, 3),
            "params_m": round(float(np.mean([r["params"] for r in runs])) / 1e6, 4),
            "top1": fmt_mean_std(mean, std, n, show_n=n == 1),  # a display-only row
            "top1_mean": round(mean, 4),
            "top1_std": round(std, 4),
            "n": n,
            "n_archs": len({r["arch_id"] for r in runs}),
            "paper_macs_m": p_macs,
            "paper_top1": p_top1,
            "run_dirs": ";".join(str(d) for d in _run_dirs(config, role)),
        })
    return pd.DataFrame(rows)


def _all_roles(config: dict) -> list[str]:
    roles = table_roles(config)
    return list(dict.fromkeys(role for t in (3, 4) for _, role in roles[t]))


def build_measurements(config: dict) -> pd.DataFrame:
    """Tidy per-run numbers for the claims (S1-S4): ``quantity, group, seed, value, run_dir``.

    ``retrain_test_acc`` and ``retrain_macs`` per retrain run (group = role, seed = its
    training seed; S1-S3 and their cost match); ``inherit_supernet_acc`` /
    ``inherit_standalone_acc`` per retrain run of inherit.csv (group = role, seed = run index,
    i.e. the position of the run's training seed in the role's seeds);
    for claim S4, one unit per *distinct* arch (``unit`` = arch_id, group = the supernet that
    scored it): ``arch_supernet_acc`` once, ``arch_standalone_acc`` once per distinct retrain
    seed (the same arch retrained with the same seed in two roles is one training, kept once).
    """
    root = profile_dir(config)
    rows = []
    seeds: dict[str, int] = {}
    for role in _all_roles(config):
        for d in _run_dirs(config, role):
            m = read_json(root / d / "metrics.json")
            seeds[str(d)] = int(m["seed"])
            for q, v in (("retrain_test_acc", m["test_acc"]), ("retrain_macs", m["macs"])):
                rows.append({"quantity": q, "group": role, "seed": int(m["seed"]),
                             "value": float(v), "run_dir": str(d)})
    inherit = root / INHERIT_CSV
    if inherit.exists():
        seen: set[tuple[str, str, int]] = set()
        for r in pd.read_csv(inherit).itertuples(index=False):
            run_dir = retrain_path(r.role, role_seeds(config, r.role)[int(r.index)])
            for quantity, value in (("inherit_supernet_acc", r.supernet_val_acc),
                                    ("inherit_standalone_acc", r.standalone_test_acc)):
                rows.append({"quantity": quantity, "group": r.role, "seed": int(r.index),
                             "value": float(value), "run_dir": run_dir})
            seed = seeds.get(run_dir, int(r.index))
            if not any(k[:2] == (r.supernet, r.arch_id) for k in seen):
                rows.append({"quantity": "arch_supernet_acc", "group": r.supernet, "seed": seed,
                             "value": float(r.supernet_val_acc), "run_dir": run_dir,
                             "unit": r.arch_id})
            if (r.supernet, r.arch_id, seed) not in seen:
                seen.add((r.supernet, r.arch_id, seed))
                rows.append({"quantity": "arch_standalone_acc", "group": r.supernet,
                             "seed": seed, "value": float(r.standalone_test_acc),
                             "run_dir": run_dir, "unit": r.arch_id})
    return pd.DataFrame(rows, columns=["quantity", "group", "seed", "value", "run_dir", "unit"])


def _wall_h(run_dir: Path) -> float:
    prov = run_dir / "provenance.json"
    return read_json(prov)["wall_time_s"] / 3600.0 if prov.exists() else float("nan")


def build_leaderboard(config: dict) -> pd.DataFrame:
    """One row per searched arch (Table 3/4 search rows): cost, retrained top-1, search cost.

    ``search_cost_h`` = wall hours of the supernet training plus the search job (provenance).
    """
    from nasrepro.papers.spos.experiment import supernet_space
    from nasrepro.reporting.tables import mean_std

    root = profile_dir(config)
    rows = []
    for role in _all_roles(config):
        if not role.startswith("search/"):
            continue
        _, supernet, sampler, searcher = role.split("/")
        space = supernet_space(config, supernet)
        by_arch: dict[str, list[tuple[Path, dict]]] = {}
        for d in _run_dirs(config, role):
            m = read_json(root / d / "metrics.json")
            by_arch.setdefault(m["arch_id"], []).append((d, m))
        for arch_id, runs in by_arch.items():
            m0 = runs[0][1]
            seeds = [m["seed"] for _, m in runs]
            cost_h = sum(
                _wall_h(root / supernet_path(supernet, sampler, seed))
                + _wall_h(root / search_path(supernet, sampler, searcher, seed))
                for seed in seeds
            ) / len(seeds)
            mean, std, n = mean_std(m["test_acc"] for _, m in runs)
            rows.append({
                "paper": "spos", "method": f"{searcher} ({supernet} supernet, {sampler})",
                "space": space.full_name, "arch_id": arch_id,
                "arch": json.dumps(m0["arch"], separators=(",", ":")),
                "macs": int(m0["macs"]), "params": int(m0["params"]),
                "acc_mean": round(mean, 4), "acc_std": round(std, 4), "n": n,
                "search_cost_h": round(cost_h, 4),
                "run_dirs": ";".join(str(d) for d, _ in runs),
            })
    return pd.DataFrame(rows)


def write_tables(config: dict, out_dir: str | Path) -> dict[str, pd.DataFrame]:
    """Write spos_table3/4 as .csv, .md and .tex into ``out_dir``; return the measurements and
    leaderboard rows (written by :func:`nasrepro.reporting.tables.write_paper_tables`)."""
    from nasrepro.reporting.tables import write_table

    captions = {
        3: "SPOS Table 3 (block search): retrained top-1 % on the profile's test split"
           + ("; all-choice widths matched to the MACs limit." if config["spos"].get(
               "baseline_widths", "matched") == "matched" else "."),
        4: "SPOS Table 4 (channel search): retrained top-1 % on the profile's test split.",
    }
    for number in (3, 4):
        write_table(build_table(config, number), Path(out_dir) / f"spos_table{number}",
                    caption=captions[number])
    return {"measurements": build_measurements(config), "leaderboard": build_leaderboard(config)}


def write_figures(config: dict, out_dir: str | Path) -> None:
    """Write spos_search_curve and spos_supernet_vs_standalone (.pdf and .png)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from nasrepro.metrics.ranking import kendall_tau_ci
    from nasrepro.reporting.figures import (
        plot_scatter_with_tau,
        plot_search_curves,
        save_figure,
        tau_text,
    )

    sp = config["spos"]
    root = profile_dir(config)
    curves: dict[str, list[list[tuple[float, float]]]] = {}
    for sampler in methods_of(config, "spos", "sampler"):
        for searcher in methods_of(config, "spos", "searcher"):
            label = searcher if sampler == sp["main_sampler"] else f"{searcher} ({sampler})"
            per_seed = []
            for seed in supernet_seeds(config, "block", sampler):
                df = pd.read_csv(root / search_path("block", sampler, searcher, seed) / "curve.csv")
                per_seed.append(list(zip(df["n_evaluated"], df["best_fitness"], strict=True)))
            curves[label] = per_seed
    fig, ax = plt.subplots(figsize=(5, 3.5))
    plot_search_curves(curves, ax=ax)
    ax.set_xlabel("evaluated candidates")
    ax.set_ylabel("best supernet val top-1 (%)")
    ax.set_title(f"SPOS search on the block supernet ({config['profile']})")
    fig.tight_layout()
    save_figure(fig, Path(out_dir) / "spos_search_curve")
    plt.close(fig)

    inh = pd.read_csv(root / INHERIT_CSV)
    tau = kendall_tau_ci(inh["supernet_val_acc"].to_numpy(), inh["standalone_test_acc"].to_numpy(),
                         seed=0)
    fig, ax = plt.subplots(figsize=(5, 4))
    plot_scatter_with_tau(
        inh["supernet_val_acc"].to_numpy(), inh["standalone_test_acc"].to_numpy(),
        labels=[r.split("/")[0] for r in inh["role"]], tau_ci=tau,
        xlabel="supernet-inherited val top-1 (%)", ylabel="standalone test top-1 (%)", ax=ax,
    )
    ax.set_title(f"SPOS supernet vs standalone ({config['profile']})\n{tau_text(tau)}",
                 fontsize="medium")
    fig.tight_layout()
    save_figure(fig, Path(out_dir) / "spos_supernet_vs_standalone")
    plt.close(fig)
