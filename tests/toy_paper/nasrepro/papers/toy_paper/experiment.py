"""The toy paper's one stage: a "search" that draws a seeded value per cell (no training)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from nasrepro.harness import Run
from nasrepro.io import write_json
from nasrepro.papers.toy_paper.grid import CELLS


def name_checks(config: dict) -> list[tuple[str, Any]]:
    """No registered names in its config section."""
    return []


def search(config: dict, cell: str, seed: int, out: Path, inputs: Any) -> None:
    """``result.json``: a value drawn from the stream named by the cell and seed."""
    inputs.allow()
    if cell not in CELLS:
        raise ValueError(f"unknown toy_paper cell {cell!r}; known: {', '.join(CELLS)}")
    run = Run()
    value = random.Random(f"toy_paper/{cell}/{seed}").random() + (0.5 if cell == "b" else 0.0)
    write_json(out / "result.json", {"cell": cell, "seed": seed, "value": round(value, 6)})
    run.finish(out, config, seed=seed)


STAGES = {"search": search}
STUDIES: dict[str, Any] = {}
