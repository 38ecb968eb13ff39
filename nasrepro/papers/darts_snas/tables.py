"""SNAS vs DARTS tables and figures (PAPERS.md section 2), assembled from the pipeline's files.

Tables (``results/<p>/tables/``, csv + md + tex):

* ``darts_snas_child_accuracy``: per search group, at the end of the search: supernet val top-1,
  the derived child's with inherited weights and no retraining, with BN recalibration, the drop
  (supernet - child, %-points) and the final entropy (SNAS Fig. 10/11; claims D1, D2).
* ``darts_snas_retrain``: per group (search groups and baselines), test error mean ± std of the
  final cells retrained from scratch, params and MACs of the evaluation network, search cost in
  device-hours (wall time of the search jobs, from provenance); the published CIFAR-10 numbers
  in ``paper_*`` columns for reference only (claims D5, D6).
* ``darts_snas_penalty``: per SNAS penalty level: lambda, edges kept, params/MACs of the
  derived search cell and of the retrained net, child and retrained accuracy (D3, D4).

Also ``darts_snas_measurements.csv`` (tidy: quantity, group, seed, value, run_dir) and
``darts_snas_leaderboard.csv`` (one row per retrained arch). Figures (pdf + png): search curves
(Fig 9), child accuracy (Fig 10), entropy (Fig 11), cells (Fig 12).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nasrepro.config import profile_dir
from nasrepro.io import read_json
from nasrepro.papers.darts_snas.grid import retrain_path, retrain_seeds, search_path, search_seeds

PAPER = "darts_snas"

#: published CIFAR-10 numbers: (test error %, params M, search cost GPU-days)
PUBLISHED = {
    "darts-1st": (3.00, 3.3, 0.4), "darts-2nd": (2.76, 3.3, 1.0), "random-cell": (3.29, 3.2, None),
    "snas:mild": (2.98, 2.9, 1.5), "snas:moderate": (2.85, 2.8, 1.5),
    "snas:aggressive": (3.10, 2.3, 1.5),
}

SEARCH_QUANTITIES = ("supernet_val_acc", "child_val_acc", "child_val_acc_recal", "child_drop",
                     "final_entropy", "child_params", "child_macs", "edges_kept")


# --------------------------------------------------------------------------- loading


def _search_space(config: dict) -> Any:
    from nasrepro.papers.darts_snas.experiment import search_space

    return search_space(config)


def _groups(config: dict) -> list[Any]:
    from nasrepro.papers.darts_snas.experiment import groups

    return groups(config)


def search_runs(config: dict) -> list[dict[str, Any]]:
    """One record per (search group, seed): ``group`` (label), ``seed``, ``final`` (final.json),
    ``log`` (DataFrame), ``archs`` (archs.jsonl rows), ``wall_time_s``, ``run_dir``."""
    root = profile_dir(config)
    out = []
    for g in _groups(config):
        if g.kind != "relaxation":
            continue
        for seed in search_seeds(config):
            d = root / search_path(g.dirname, seed)
            archs = [json.loads(line) for line in (d / "archs.jsonl").read_text().splitlines()
                     if line.strip()]
            prov = d / "provenance.json"
            out.append({"group": g.label, "group_obj": g, "seed": seed,
                        "final": read_json(d / "final.json"), "log": pd.read_csv(d / "log.csv"),
                        "archs": archs,
                        "wall_time_s": read_json(prov)["wall_time_s"] if prov.exists() else None,
                        "run_dir": str(d.relative_to(root))})
    return out


def retrain_runs(config: dict) -> list[dict[str, Any]]:
    """One record per (group, retrain seed): ``group``, ``seed``, ``index`` (the seed's
    position in ``darts_snas.retrain_seeds``), ``metrics``, ``run_dir``."""
    root = profile_dir(config)
    out = []
    for g in _groups(config):
        for i, seed in enumerate(retrain_seeds(config)):
            d = root / retrain_path(g.dirname, seed)
            out.append({"group": g.label, "group_obj": g, "seed": seed, "index": i,
                        "metrics": read_json(d / "metrics.json"),
                        "run_dir": str(d.relative_to(root))})
    return out


# --------------------------------------------------------------------------- tables


def _ms(values: list[float], digits: int = 2) -> tuple[str, float, float, int]:
    from nasrepro.reporting.tables import fmt_mean_std, mean_std

    mean, std, n = mean_std(values)
    return fmt_mean_std(mean, std, n, digits), round(mean, 4), round(std, 4), n


def measurements(config: dict, searches: list[dict], retrains: list[dict]) -> pd.DataFrame:
    """Tidy ``quantity, group, seed, value, run_dir`` of every number the claims read."""
    rows = []
    chance = 100.0 / _search_space(config).cfg.num_classes
    for r in searches:
        f = r["final"]
        for q in SEARCH_QUANTITIES:
            rows.append({"quantity": q, "group": r["group"], "seed": r["seed"],
                         "value": float(f[q]), "run_dir": r["run_dir"]})
        # claims' guards and D1: drop normalised by the supernet's room above chance, and the
        # derived cell's edges with a parametric (conv) op
        room = float(f["supernet_val_acc"]) - chance
        for q, v in (("child_drop_norm", float(f["child_drop"]) / room if room > 0 else np.nan),
                     ("parametric_edges", float(sum(op.startswith(("sep_conv", "dil_conv"))
                                                    for cell in ("normal", "reduce")
                                                    for op, *_ in f["arch"][cell])))):
            rows.append({"quantity": q, "group": r["group"], "seed": r["seed"], "value": v,
                         "run_dir": r["run_dir"]})
    if searches:
        rows.append({"quantity": "chance_acc", "group": "all", "seed": searches[0]["seed"],
                     "value": chance, "run_dir": searches[0]["run_dir"]})
    for r in retrains:
        m = r["metrics"]
        for q, v in (("retrain_test_acc", m["test_acc"]), ("retrain_params", m["params"]),
                     ("retrain_macs", m["macs"])):
            rows.append({"quantity": q, "group": r["group"], "seed": r["seed"],
                         "value": float(v), "run_dir": r["run_dir"]})
    return pd.DataFrame(rows, columns=["quantity", "group", "seed", "value", "run_dir"])


def _run_dirs(*record_lists: list[dict], label: str) -> str:
    """``;``-joined ``run_dir`` of every record of group ``label`` (in order, lists in turn)."""
    return ";".join(r["run_dir"] for records in record_lists for r in records
                    if r["group"] == label)


def child_accuracy_table(searches: list[dict]) -> pd.DataFrame:
    """Per search group: supernet vs child accuracy without retraining, drop, entropy;
    ``run_dirs``: the group's search run dirs."""
    rows = []
    for label in dict.fromkeys(r["group"] for r in searches):
        finals = [r["final"] for r in searches if r["group"] == label]
        row: dict[str, Any] = {"method": label}
        for q in ("supernet_val_acc", "child_val_acc", "child_val_acc_recal", "child_drop",
                  "final_entropy"):
            text, mean, std, n = _ms([f[q] for f in finals], 3 if q == "final_entropy" else 2)
            row[q] = text
            row[f"{q}_mean"] = mean
        row["n"] = len(finals)
        row["run_dirs"] = _run_dirs(searches, label=label)
        rows.append(row)
    return pd.DataFrame(rows)


def _search_cost_h(searches: list[dict], label: str) -> float | None:
    walls = [r["wall_time_s"] for r in searches if r["group"] == label and r["wall_time_s"]]
    return round(float(np.mean(walls)) / 3600.0, 5) if walls else None


def retrain_table(searches: list[dict], retrains: list[dict]) -> pd.DataFrame:
    """Per group: retrained test error mean ± std, params, MACs, search cost (device-hours);
    ``run_dirs``: the group's search run dirs (search cost; none for baselines) and retrain run
    dirs."""
    rows = []
    for label in dict.fromkeys(r["group"] for r in retrains):
        ms = [r["metrics"] for r in retrains if r["group"] == label]
        text, mean, std, n = _ms([100.0 - m["test_acc"] for m in ms])
        pub = PUBLISHED.get(label, (None, None, None))
        rows.append({
            "method": label, "test_error": text, "test_error_mean": mean,
            "test_error_std": std, "n": n, "n_archs": len({m["arch_id"] for m in ms}),
            "params_k": round(float(np.mean([m["params"] for m in ms])) / 1e3, 1),
            "macs_m": round(float(np.mean([m["macs"] for m in ms])) / 1e6, 3),
            "search_cost_h": _search_cost_h(searches, label),
            "paper_error": pub[0], "paper_params_m": pub[1], "paper_cost_gpu_days": pub[2],
            "run_dirs": _run_dirs(searches, retrains, label=label),
        })
    return pd.DataFrame(rows)


def penalty_table(config: dict, searches: list[dict], retrains: list[dict]) -> pd.DataFrame:
    """Per SNAS penalty level (increasing lambda): edges kept, params, MACs, accuracies;
    ``run_dirs``: the level's search and retrain run dirs."""
    lambdas = config[PAPER]["penalty_lambdas"]
    labels = [g.label for g in _groups(config) if g.level is not None]
    labels.sort(key=lambda lab: lambdas[lab.split(":", 1)[1]])
    rows = []
    for label in labels:
        finals = [r["final"] for r in searches if r["group"] == label]
        ms = [r["metrics"] for r in retrains if r["group"] == label]
        rows.append({
            "level": label.split(":", 1)[1], "lambda": f"{lambdas[label.split(':', 1)[1]]:g}",
            "edges_kept": _ms([f["edges_kept"] for f in finals], 1)[0],
            "edges_kept_mean": _ms([f["edges_kept"] for f in finals])[1],
            "search_cell_params_k": round(float(np.mean([f["child_params"] for f in finals]))
                                          / 1e3, 2),
            "search_cell_macs_m": round(float(np.mean([f["child_macs"] for f in finals]))
                                        / 1e6, 3),
            "child_val_acc": _ms([f["child_val_acc"] for f in finals])[0],
            "retrain_params_k": round(float(np.mean([m["params"] for m in ms])) / 1e3, 1),
            "retrain_macs_m": round(float(np.mean([m["macs"] for m in ms])) / 1e6, 3),
            "retrain_test_acc": _ms([m["test_acc"] for m in ms])[0],
            "retrain_test_acc_mean": _ms([m["test_acc"] for m in ms])[1],
            "n": len(finals),
            "run_dirs": _run_dirs(searches, retrains, label=label),
        })
    return pd.DataFrame(rows)


def leaderboard(config: dict, searches: list[dict], retrains: list[dict]) -> pd.DataFrame:
    """One row per retrained arch (per group and arch_id)."""
    rows = []
    keys: dict[tuple[str, str], list[dict]] = {}
    for r in retrains:
        keys.setdefault((r["group"], r["metrics"]["arch_id"]), []).append(r)
    for (label, arch_id), runs in keys.items():
        ms = [r["metrics"] for r in runs]
        seeds = {r["seed"] for r in runs}
        walls = [s["wall_time_s"] for s in searches if s["group"] == label
                 and s["seed"] in seeds and s["wall_time_s"]]
        _, mean, std, n = _ms([m["test_acc"] for m in ms])
        rows.append({
            "paper": PAPER, "method": label, "space": ms[0]["space"], "arch_id": arch_id,
            "arch": json.dumps(ms[0]["arch"], separators=(",", ":")),
            "macs": ms[0]["macs"], "params": ms[0]["params"], "acc_mean": mean, "acc_std": std,
            "n": n, "search_cost_h": round(sum(walls) / 3600.0, 5) if walls else 0.0,
            "run_dirs": ";".join(r["run_dir"] for r in runs),
        })
    return pd.DataFrame(rows, columns=["paper", "method", "space", "arch_id", "arch", "macs",
                                       "params", "acc_mean", "acc_std", "n", "search_cost_h",
                                       "run_dirs"])


def write_tables(config: dict, out_dir: str | Path) -> dict[str, pd.DataFrame]:
    """Write the three tables (csv/md/tex); return the measurements and leaderboard rows."""
    from nasrepro.reporting.tables import write_table

    out_dir = Path(out_dir)
    searches, retrains = search_runs(config), retrain_runs(config)
    write_table(child_accuracy_table(searches), out_dir / "darts_snas_child_accuracy",
                caption="SNAS vs DARTS: val top-1 (%) at the end of the search, supernet vs "
                        "derived child with inherited weights (no retraining). Each method at "
                        "its official protocol: DARTS searches on two halves of the training "
                        "split (weights / architecture), SNAS on the whole training split "
                        "(single level); the SNAS supernet is evaluated with a Gumbel sample "
                        "per batch, as its official code.")
    write_table(retrain_table(searches, retrains), out_dir / "darts_snas_retrain",
                caption="SNAS vs DARTS: test error (%) of the final cells retrained from "
                        "scratch (SNAS cells with a BN after every pool, as the official SNAS "
                        "code); paper_* columns: published CIFAR-10 numbers.")
    write_table(penalty_table(config, searches, retrains), out_dir / "darts_snas_penalty",
                caption="SNAS resource penalty levels: edges kept, cost and accuracy.")
    return {"measurements": measurements(config, searches, retrains),
            "leaderboard": leaderboard(config, searches, retrains)}


# --------------------------------------------------------------------------- figures

_OP_SHORT = {"max_pool_3x3": "max3", "avg_pool_3x3": "avg3", "skip_connect": "skip",
             "sep_conv_3x3": "sep3", "sep_conv_5x5": "sep5", "dil_conv_3x3": "dil3",
             "dil_conv_5x5": "dil5"}
_OP_COLOR = {"max_pool_3x3": "tab:blue", "avg_pool_3x3": "tab:cyan", "skip_connect": "tab:gray",
             "sep_conv_3x3": "tab:red", "sep_conv_5x5": "tab:orange",
             "dil_conv_3x3": "tab:green", "dil_conv_5x5": "tab:olive"}


def draw_cell(ax: Any, edges: list[list[Any]], title: str, steps: int = 4) -> None:
    """Draw one cell (``[[op, from, to], ...]``): inputs left, nodes in a row, concat output."""
    pos = {0: (0.0, 1.2), 1: (0.0, -1.2)}
    for i in range(steps):
        pos[i + 2] = (1.6 + 1.1 * i, 0.7 if i % 2 == 0 else -0.7)
    out_pos = (1.6 + 1.1 * steps, 0.0)
    for src, dst_list in ((n, [e for e in edges if e[1] == n]) for n in range(steps + 2)):
        for op, _, dst in dst_list:
            (x0, y0), (x1, y1) = pos[src], pos[dst]
            rad = 0.25 if (dst - src) % 2 else -0.25
            ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                        arrowprops={"arrowstyle": "-|>", "color": _OP_COLOR.get(op, "k"),
                                    "lw": 1.4, "shrinkA": 9, "shrinkB": 9,
                                    "connectionstyle": f"arc3,rad={rad}"})
            mx, my = (x0 + x1) / 2, (y0 + y1) / 2 + rad * 0.6
            ax.text(mx, my, _OP_SHORT.get(op, op), fontsize=6, ha="center", va="center",
                    color=_OP_COLOR.get(op, "k"),
                    bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.8})
    for i in range(steps):
        (x0, y0) = pos[i + 2]
        ax.annotate("", xy=out_pos, xytext=(x0, y0),
                    arrowprops={"arrowstyle": "-|>", "color": "0.75", "lw": 0.8, "shrinkA": 9,
                                "shrinkB": 9, "linestyle": "--"})
    names = {0: "k-2", 1: "k-1"}
    for node, (x, y) in pos.items():
        ax.scatter([x], [y], s=260, c="lightyellow" if node < 2 else "lightblue",
                   edgecolors="k", zorder=3)
        ax.text(x, y, names.get(node, str(node - 2)), fontsize=6, ha="center", va="center",
                zorder=4)
    ax.scatter([out_pos[0]], [out_pos[1]], s=260, c="lightgreen", edgecolors="k", zorder=3)
    ax.text(out_pos[0], out_pos[1], "out", fontsize=6, ha="center", va="center", zorder=4)
    ax.set_xlim(-0.5, out_pos[0] + 0.5)
    ax.set_ylim(-1.7, 1.7)
    ax.set_title(title, fontsize=7)
    ax.axis("off")


def _curves(searches: list[dict], column: str) -> dict[str, list[list[tuple[float, float]]]]:
    out: dict[str, list[list[tuple[float, float]]]] = {}
    for r in searches:
        df = r["log"].dropna(subset=[column])
        out.setdefault(r["group"], []).append(
            list(zip(df["epoch"].astype(float), df[column].astype(float), strict=True)))
    return out


def write_figures(config: dict, out_dir: str | Path) -> None:
    """Write darts_snas_{search_curves, child_accuracy, entropy, cells} (.pdf and .png)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from nasrepro.reporting.figures import plot_search_curves, save_figure

    out_dir = Path(out_dir)
    searches = search_runs(config)
    profile = config["profile"]

    for name, column, ylabel, title in (
            ("search_curves", "supernet_val_acc", "supernet val top-1 (%)",
             "Search curves (Fig 9)"),
            ("entropy", "entropy", "entropy of the arch distribution (nats/edge)",
             "Entropy over the search (Fig 11)")):
        fig, ax = plt.subplots(figsize=(5.5, 3.8))
        plot_search_curves(_curves(searches, column), ax=ax, xlabel="epoch", ylabel=ylabel)
        if column == "entropy":
            ax.legend(loc="lower left", fontsize="small")
        ax.set_title(f"{title}, {profile} profile", fontsize="medium")
        fig.tight_layout()
        save_figure(fig, out_dir / f"darts_snas_{name}")
        plt.close(fig)

    # Fig 10: supernet vs child (no retraining, and with BN recalibration)
    table = child_accuracy_table(searches)
    labels = list(table["method"])
    cols = [("supernet_val_acc", "supernet"), ("child_val_acc", "child (no retrain)"),
            ("child_val_acc_recal", "child + BN recal.")]
    fig, ax = plt.subplots(figsize=(max(5.0, 1.2 * len(labels) + 2), 3.8))
    width = 0.8 / len(cols)
    x = np.arange(len(labels))
    for j, (col, name) in enumerate(cols):
        means, stds = [], []
        for label in labels:
            v = [r["final"][col] for r in searches if r["group"] == label]
            means.append(float(np.mean(v)))
            stds.append(float(np.std(v, ddof=1)) if len(v) > 1 else 0.0)
        ax.bar(x + (j - 1) * width, means, width, yerr=stds, capsize=2, label=name)
    ax.set_xticks(x, labels, rotation=20, fontsize="small")
    ax.set_ylabel("val top-1 (%) at the end of the search")
    ax.set_title(f"Child accuracy without retraining (Fig 10), {profile} profile",
                 fontsize="medium")
    ax.legend(fontsize="small")
    ax.grid(True, axis="y", alpha=0.3)
    fig.tight_layout()
    save_figure(fig, out_dir / "darts_snas_child_accuracy")
    plt.close(fig)

    # Fig 12: final cells (first seed) of each group, and the cell's evolution under the
    # strongest penalty
    first = [r for r in searches if r["seed"] == search_seeds(config)[0]]
    lambdas = config[PAPER]["penalty_lambdas"]
    penalized = [r for r in first if r["group_obj"].level is not None]
    strongest = max(penalized, key=lambda r: lambdas[r["group_obj"].level]) if penalized \
        else (first[-1] if first else None)
    evo = []
    if strongest is not None:
        archs = strongest["archs"]
        idx = sorted({int(round(i)) for i in np.linspace(0, len(archs) - 1, min(4, len(archs)))})
        evo = [archs[i] for i in idx]
    ncols = max(2, len(evo))
    nrows = len(first) + (1 if evo else 0)
    fig, axes = plt.subplots(max(1, nrows), ncols, figsize=(2.6 * ncols, 1.6 * max(1, nrows)),
                             squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for i, r in enumerate(first):
        for j, kind in enumerate(("normal", "reduce")):
            draw_cell(axes[i][j], r["final"]["arch"][kind],
                      f"{r['group']} (seed {r['seed']}): {kind} cell, "
                      f"{len(r['final']['arch'][kind])} edges")
    for j, a in enumerate(evo):
        draw_cell(axes[nrows - 1][j], a["arch"]["normal"],
                  f"{strongest['group']}: normal cell, epoch {a['epoch']}")
    fig.suptitle(f"Derived cells (Fig 12-15), {profile} profile", fontsize="medium")
    fig.tight_layout()
    save_figure(fig, out_dir / "darts_snas_cells")
    plt.close(fig)
