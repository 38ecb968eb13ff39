"""The result of a search run and its files (archs.jsonl, curve.csv, best.json).

Shared by every searcher in :mod:`nasrepro.search` (random search and SPOS Algorithm 1,
Guo et al. 2019, Sec. 3.4). A search evaluates candidates in order; each evaluation is one row
of ``evaluated`` and one row of the search curve (best fitness so far vs. number of evaluated
candidates), so that searchers with the same evaluation budget can be compared on one plot.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nasrepro.io import atomic_path, read_json, read_jsonl, write_json, write_jsonl

Arch = dict[str, Any]
#: Batched fitness: one float per arch, higher is better (e.g. supernet top-1 after BN recal).
Evaluate = Callable[[list[Arch]], list[float]]

CURVE_COLUMNS = ("n_evaluated", "generation", "fitness", "best_fitness")


def fitness_key(entry: dict) -> float:
    """Sort key of an evaluated entry: its fitness, with NaN ranked below everything."""
    f = entry["fitness"]
    return -math.inf if math.isnan(f) else f


@dataclass
class SearchResult:
    """Everything a search evaluated, in evaluation order.

    Attributes:
        evaluated: one dict per evaluated candidate, in evaluation order, with keys ``n``
            (1-based count), ``generation``, ``arch``, ``arch_id``, ``fitness``, ``macs``,
            ``params``.
        curve: one row per evaluation: ``n_evaluated``, ``generation``, ``fitness``,
            ``best_fitness`` (best so far, monotone non-decreasing).
        best: the best evaluated entry (first one evaluated among equal fitness).
        meta: searcher name and settings (seed, population, ...), for provenance.
    """

    evaluated: list[dict]
    curve: list[dict]
    best: dict
    meta: dict = field(default_factory=dict)

    @property
    def n_evaluated(self) -> int:
        """Number of evaluated candidates (the budget to give a baseline searcher)."""
        return len(self.evaluated)

    @classmethod
    def from_evaluated(cls, evaluated: list[dict], meta: dict | None = None) -> SearchResult:
        """Build the curve and best entry from the evaluated entries (in evaluation order)."""
        if not evaluated:
            raise ValueError("a search result needs at least one evaluated candidate")
        curve: list[dict] = []
        best = evaluated[0]
        for e in evaluated:
            if fitness_key(e) > fitness_key(best):
                best = e
            curve.append(
                {
                    "n_evaluated": e["n"],
                    "generation": e["generation"],
                    "fitness": e["fitness"],
                    "best_fitness": best["fitness"],
                }
            )
        return cls(evaluated=evaluated, curve=curve, best=best, meta=dict(meta or {}))


def write_search_outputs(result: SearchResult, out_dir: str | Path) -> dict[str, Path]:
    """Write ``archs.jsonl`` (evaluated), ``curve.csv`` and ``best.json`` into ``out_dir``.

    Every file is written atomically (temp file + rename) with sorted keys, so the same result
    gives byte-identical files.

    Returns:
        ``{"archs": path, "curve": path, "best": path}``.
    """
    out_dir = Path(out_dir)
    paths = {
        "archs": out_dir / "archs.jsonl",
        "curve": out_dir / "curve.csv",
        "best": out_dir / "best.json",
    }
    write_jsonl(paths["archs"], result.evaluated)
    with atomic_path(paths["curve"]) as tmp:
        with open(tmp, "w", newline="") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(CURVE_COLUMNS)
            for row in result.curve:
                writer.writerow(
                    [
                        int(row["n_evaluated"]),
                        int(row["generation"]),
                        repr(float(row["fitness"])),
                        repr(float(row["best_fitness"])),
                    ]
                )
    write_json(paths["best"], result.best)
    return paths


def read_search_outputs(out_dir: str | Path) -> SearchResult:
    """Read back what :func:`write_search_outputs` wrote (``meta`` is not stored there)."""
    out_dir = Path(out_dir)
    evaluated = read_jsonl(out_dir / "archs.jsonl")
    curve: list[dict] = []
    with open(out_dir / "curve.csv", newline="") as f:
        for row in csv.DictReader(f):
            curve.append(
                {
                    "n_evaluated": int(row["n_evaluated"]),
                    "generation": int(row["generation"]),
                    "fitness": float(row["fitness"]),
                    "best_fitness": float(row["best_fitness"]),
                }
            )
    best = read_json(out_dir / "best.json")
    return SearchResult(evaluated=evaluated, curve=curve, best=best)
