"""Generic tables: mean ± std over seeds, and one table written as CSV, Markdown and LaTeX.

Every comparison table of the suite (SPOS Tables 3/4, DARTS/SNAS CIFAR-10 table, AttentiveNAS
and FBNetV3 tables; assembled per paper elsewhere) goes through :func:`write_table`, which writes
``base.csv``, ``base.md`` and ``base.tex`` all-or-nothing (temp files, renamed only once all
three rendered and were written) and byte-identically for identical input. Cells read
``mean ± std`` over seeds (:func:`fmt_mean_std`), with the number of seeds ``n`` in its own
column or appended.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nasrepro.io import atomic_path

#: what a missing value (NaN, None) shows in the Markdown and LaTeX tables
MISSING = "-"

#: provenance columns (the run directories a row came from, the arch as JSON): written to the
#: CSV only, since they would make the Markdown and LaTeX tables unreadable
CSV_ONLY_COLUMNS = ("run_dirs", "run_dir", "arch_json")


def mean_std(values: Iterable[float]) -> tuple[float, float, int]:
    """Mean, sample standard deviation (ddof=1) and count of the finite values.

    Non-finite values (NaN from a failed or missing run) are dropped and not counted.

    Returns:
        ``(mean, std, n)``; ``std`` is 0.0 for ``n == 1``; ``(nan, nan, 0)`` for no value.
    """
    arr = np.asarray([float(v) for v in values], dtype=float)
    arr = arr[np.isfinite(arr)]
    n = int(arr.size)
    if n == 0:
        return math.nan, math.nan, 0
    std = float(arr.std(ddof=1)) if n > 1 else 0.0
    return float(arr.mean()), std, n


def fmt_mean_std(
    mean: float, std: float, n: int, digits: int = 2, *, show_n: bool = False
) -> str:
    """``"73.40 ± 0.12"``; a single run shows only its value; no run shows ``"-"``.

    Args:
        mean, std, n: as returned by :func:`mean_std`.
        digits: decimals of both numbers.
        show_n: append ``" (n=3)"``.
    """
    if n == 0 or not math.isfinite(mean):
        return MISSING
    text = f"{mean:.{digits}f}"
    if n > 1:
        text += f" ± {std:.{digits}f}"
    if show_n:
        text += f" (n={n})"
    return text


def _check_df(df: pd.DataFrame) -> None:
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"write_table needs a pandas DataFrame (got {type(df).__name__})")
    if df.shape[1] == 0:
        raise ValueError("write_table got a table with no columns; build the rows first")
    if isinstance(df.columns, pd.MultiIndex):
        raise ValueError("write_table needs flat column names; join the MultiIndex levels")
    names = [str(c) for c in df.columns]
    dups = sorted({c for c in names if names.count(c) > 1})
    if dups:
        raise ValueError(f"write_table got duplicate column names {dups}; rename them")


def _cell(value: object, float_digits: int) -> str:
    if value is None:
        return MISSING
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return MISSING if math.isnan(v) else f"{v:.{float_digits}f}"
    if value is pd.NA or value is pd.NaT:
        return MISSING
    return str(value)


def _display(df: pd.DataFrame, float_digits: int) -> pd.DataFrame:
    """All cells as strings: floats with ``float_digits`` decimals, missing values as ``-``."""
    cols = [str(c) for c in df.columns]
    rows = [[_cell(v, float_digits) for v in row] for row in df.itertuples(index=False)]
    return pd.DataFrame(rows, columns=cols, dtype=object)


_LATEX_SPECIALS = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
}


def latex_escape(text: str) -> str:
    """Escape LaTeX's special characters in plain text (used for the caption)."""
    return "".join(_LATEX_SPECIALS.get(ch, ch) for ch in text)


def _numeric_columns(df: pd.DataFrame) -> list[bool]:
    return [
        pd.api.types.is_numeric_dtype(df.iloc[:, j]) and not pd.api.types.is_bool_dtype(
            df.iloc[:, j]
        )
        for j in range(df.shape[1])
    ]


def render_table(
    df: pd.DataFrame, caption: str | None = None, float_digits: int = 2
) -> dict[str, str]:
    """The CSV, Markdown and LaTeX text of ``df`` (what :func:`write_table` writes).

    CSV keeps full precision and every column (it is for machines); Markdown and LaTeX drop the
    provenance columns (:data:`CSV_ONLY_COLUMNS`) and show floats with
    ``float_digits`` decimals; numeric columns are right-aligned. In LaTeX, text (caption
    included) is escaped and ``±`` becomes ``$\\pm$``.
    """
    _check_df(df)
    csv_text = df.to_csv(index=False, lineterminator="\n")
    df = df[[c for c in df.columns if str(c) not in CSV_ONLY_COLUMNS]]
    _check_df(df)
    shown = _display(df, float_digits)
    numeric = _numeric_columns(df)
    md = shown.to_markdown(
        index=False,
        disable_numparse=True,
        colalign=["right" if num else "left" for num in numeric],
    ) + "\n"
    if caption:
        md += f"\nTable: {caption}\n"
    tex = shown.to_latex(
        index=False,
        escape=True,
        caption=latex_escape(caption) if caption else None,
        column_format="".join("r" if num else "l" for num in numeric),
    )
    tex = tex.replace("±", r"$\pm$")
    return {"csv": csv_text, "md": md, "tex": tex}


def write_table(
    df: pd.DataFrame,
    base: str | Path,
    caption: str | None = None,
    float_digits: int = 2,
) -> dict[str, Path]:
    """Write ``base.csv``, ``base.md`` and ``base.tex``: all three, or none.

    All three texts are rendered first (an invalid table raises before anything is written),
    then written to temp files next to the targets, which are renamed only after all three
    were written. Identical input gives byte-identical files.

    Args:
        df: the table (flat, unique column names; the index is not written).
        base: output path without extension, e.g. ``results/default/tables/spos_table3``.
        caption: optional caption (LaTeX ``\\caption``, a ``Table:`` line in Markdown).
        float_digits: decimals of float cells in Markdown and LaTeX.

    Returns:
        ``{"csv": path, "md": path, "tex": path}``.
    """
    texts = render_table(df, caption=caption, float_digits=float_digits)
    base = Path(base)
    paths = {ext: base.with_name(base.name + f".{ext}") for ext in texts}
    with contextlib.ExitStack() as stack:
        tmps = {ext: stack.enter_context(atomic_path(p)) for ext, p in paths.items()}
        for ext, tmp in tmps.items():
            tmp.write_text(texts[ext], encoding="utf-8")
    return paths


def write_csv(df: pd.DataFrame, path: str | Path) -> Path:
    """Write one tidy CSV atomically (``\\n`` line ends, no index): byte-identical for identical
    input. For machine-read outputs (measurements, leaderboards) that need no md/tex twin."""
    path = Path(path)
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False, lineterminator="\n")
    return path


#: the tidy CSVs every paper's table step writes next to the other papers' (the claims engine
#: and the cross-paper leaderboard read them): ``<data_dir>/<paper>_<name>.csv``
DATA_TABLES = ("measurements", "leaderboard")


def write_paper_tables(paper: str, tables_module: Any, config: dict, out_dir: str | Path,
                       data_dir: str | Path) -> None:
    """One paper's table step: its display tables into ``out_dir``
    (``results/<profile>/<paper>/tables``) and its :data:`DATA_TABLES` CSVs into ``data_dir``
    (``results/<profile>/tables``).

    ``tables_module`` is ``nasrepro.papers.<paper>.tables``: its ``write_tables(config, out_dir)``
    writes the paper's own tables and returns ``{"measurements": df, "leaderboard": df}``.
    """
    data = tables_module.write_tables(config, out_dir)
    missing = [name for name in DATA_TABLES if name not in data]
    if missing:
        raise TypeError(f"{tables_module.__name__}.write_tables returned no {missing}")
    for name in DATA_TABLES:
        write_csv(data[name], Path(data_dir) / f"{paper}_{name}.csv")
