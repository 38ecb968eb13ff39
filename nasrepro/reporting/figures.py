"""Generic figures: deterministic PDF + PNG saving, search curves, scatter with Kendall tau.

Every figure of the suite (SPOS Fig. 3 search curves, rank-correlation scatters for SPOS S4,
AttentiveNAS A3 and FBNetV3 F3/F4, Pareto plots; assembled per paper elsewhere) is saved with
:func:`save_figure`, which writes ``base.pdf`` and ``base.png`` atomically and without
timestamps or software tags, so rerunning on the same data gives byte-identical files.
Uses the non-interactive Agg backend.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from nasrepro.io import atomic_path  # noqa: E402

#: metadata that keeps the files free of dates and versions (byte-identical reruns)
PDF_METADATA = {"CreationDate": None, "ModDate": None, "Producer": None, "Creator": None}
PNG_METADATA = {"Software": None}

Run = Sequence[Any]  # [(n_evaluated, best_fitness), ...] or curve rows (dicts)


def save_figure(fig: Figure, base: str | Path, dpi: int = 150) -> dict[str, Path]:
    """Write ``base.pdf`` and ``base.png``: both or neither, byte-identical on rerun.

    Args:
        fig: the figure.
        base: output path without extension, e.g. ``results/default/figures/spos_fig3``.
        dpi: resolution of the PNG.

    Returns:
        ``{"pdf": path, "png": path}``.
    """
    base = Path(base)
    paths = {ext: base.with_name(base.name + f".{ext}") for ext in ("pdf", "png")}
    with contextlib.ExitStack() as stack:
        tmps = {ext: stack.enter_context(atomic_path(p)) for ext, p in paths.items()}
        fig.savefig(tmps["pdf"], format="pdf", metadata=PDF_METADATA)
        fig.savefig(tmps["png"], format="png", dpi=dpi, metadata=PNG_METADATA)
    return paths


def _as_xy(run: Run) -> tuple[np.ndarray, np.ndarray]:
    if len(run) and isinstance(run[0], Mapping):
        pairs = [(r["n_evaluated"], r["best_fitness"]) for r in run]
    else:
        pairs = [(p[0], p[1]) for p in run]
    arr = np.asarray(pairs, dtype=float).reshape(-1, 2)
    order = np.argsort(arr[:, 0], kind="stable")
    return arr[order, 0], arr[order, 1]


def _is_single_run(value: Sequence[Any]) -> bool:
    if not len(value):
        return True
    first = value[0]
    return isinstance(first, Mapping) or (
        len(first) == 2 and np.isscalar(first[0]) and np.isscalar(first[1])
    )


def _step_on_grid(x: np.ndarray, y: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Value of the step function (last ``y`` at ``x <= g``) on ``grid``; NaN before ``x[0]``."""
    pos = np.searchsorted(x, grid, side="right") - 1
    out = np.full(grid.shape, np.nan)
    ok = pos >= 0
    out[ok] = y[pos[ok]]
    return out


def plot_search_curves(
    curves: Mapping[str, Sequence[Any]],
    ax: Axes | None = None,
    *,
    band: str = "std",
    xlabel: str = "evaluated candidates",
    ylabel: str = "best fitness",
) -> Axes:
    """Best fitness so far vs. number of evaluated candidates, one line per searcher.

    Args:
        curves: ``{label: run}`` or ``{label: [run_seed0, run_seed1, ...]}``; a run is a list of
            ``(n_evaluated, best_fitness)`` pairs or of curve rows (``SearchResult.curve``).
            Seeds are put on the union of their x values (step functions); the line is the mean
            over seeds, the shaded band mean ± std (``band="std"``) or min..max
            (``band="minmax"``).
        ax: axes to draw on (default: a new figure).
        band: ``"std"`` or ``"minmax"``.
        xlabel, ylabel: axis labels.

    Returns:
        The axes.
    """
    if band not in ("std", "minmax"):
        raise ValueError(f"band must be 'std' or 'minmax' (got {band!r})")
    if ax is None:
        _, ax = plt.subplots(figsize=(5.0, 3.5))
    for label, value in curves.items():
        runs = [value] if _is_single_run(value) else list(value)
        xy = [_as_xy(r) for r in runs if len(r)]
        if not xy:
            continue
        grid = np.unique(np.concatenate([x for x, _ in xy]))
        ys = np.vstack([_step_on_grid(x, y, grid) for x, y in xy])
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)  # grid points covered by < 2 seeds
            mean = np.nanmean(ys, axis=0)
            if band == "std":
                sd = np.nanstd(ys, axis=0, ddof=1) if len(xy) > 1 else np.zeros_like(mean)
                lo, hi = mean - sd, mean + sd
            else:
                lo, hi = np.nanmin(ys, axis=0), np.nanmax(ys, axis=0)
        name = f"{label} (n={len(xy)})" if len(xy) > 1 else str(label)
        (line,) = ax.step(grid, mean, where="post", label=name)
        if len(xy) > 1:
            ax.fill_between(grid, lo, hi, step="post", alpha=0.25, color=line.get_color(),
                            linewidth=0)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right", fontsize="small")
    return ax


def tau_text(tau_ci: Mapping[str, float]) -> str:
    """``"Kendall τ = 0.53 [0.31, 0.70], n = 20"`` from :func:`kendall_tau_ci`'s dict."""
    tau = tau_ci.get("tau", float("nan"))
    text = f"Kendall τ = {tau:.2f}"
    if "low" in tau_ci and "high" in tau_ci:
        text += f" [{tau_ci['low']:.2f}, {tau_ci['high']:.2f}]"
    if "n" in tau_ci:
        text += f", n = {int(tau_ci['n'])}"
    return text


def plot_scatter_with_tau(
    x: Sequence[float],
    y: Sequence[float],
    labels: Sequence[str | None] | None,
    tau_ci: Mapping[str, float],
    xlabel: str,
    ylabel: str,
    ax: Axes | None = None,
) -> Axes:
    """Scatter of paired values with the Kendall tau (and its CI) in the title.

    Args:
        x, y: paired values (e.g. supernet accuracy vs. standalone accuracy per arch).
        labels: group of each point (points of one group share a colour and a legend entry,
            in order of first appearance), or None for one group.
        tau_ci: the dict of :func:`nasrepro.metrics.ranking.kendall_tau_ci` (``tau``, ``low``,
            ``high``, ``n``).
        xlabel, ylabel: axis labels.
        ax: axes to draw on (default: a new figure).

    Returns:
        The axes.
    """
    xa = np.asarray(x, dtype=float).ravel()
    ya = np.asarray(y, dtype=float).ravel()
    if xa.shape != ya.shape:
        raise ValueError(f"x and y must have the same length (got {xa.size} and {ya.size})")
    if labels is not None and len(labels) != xa.size:
        raise ValueError(f"labels must have one entry per point (got {len(labels)}, {xa.size})")
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4.0))
    groups = [None] * xa.size if labels is None else list(labels)
    order = list(dict.fromkeys(groups))
    for g in order:
        mask = np.array([lab == g for lab in groups], dtype=bool)
        ax.scatter(xa[mask], ya[mask], s=18, alpha=0.8, label=None if g is None else str(g))
    if any(g is not None for g in order):
        ax.legend(fontsize="small")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(tau_text(tau_ci), fontsize="medium")
    ax.grid(True, alpha=0.3)
    return ax
