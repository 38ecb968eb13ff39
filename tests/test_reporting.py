"""Tests of the generic tables (CSV/Markdown/LaTeX) and figures (PDF/PNG) of nasrepro.reporting."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from nasrepro.reporting.figures import (
    plot_scatter_with_tau,
    plot_search_curves,
    save_figure,
    tau_text,
)
from nasrepro.reporting.tables import fmt_mean_std, mean_std, render_table, write_table

# --- tables ------------------------------------------------------------------------------


def test_mean_std() -> None:
    m, s, n = mean_std([73.3, 73.4, 73.5])
    assert (m, n) == (pytest.approx(73.4), 3)
    assert s == pytest.approx(0.1)  # sample std, ddof=1
    assert mean_std([5.0]) == (5.0, 0.0, 1)
    m, s, n = mean_std([1.0, float("nan"), 3.0])
    assert (m, s, n) == (2.0, pytest.approx(math.sqrt(2)), 2)
    m, s, n = mean_std([])
    assert math.isnan(m) and math.isnan(s) and n == 0


def test_fmt_mean_std() -> None:
    assert fmt_mean_std(73.4, 0.12, 3) == "73.40 ± 0.12"
    assert fmt_mean_std(73.4, 0.123, 3, digits=1) == "73.4 ± 0.1"
    assert fmt_mean_std(73.4, 0.12, 3, show_n=True) == "73.40 ± 0.12 (n=3)"
    assert fmt_mean_std(*mean_std([74.3])) == "74.30"
    assert fmt_mean_std(*mean_std([])) == "-"


def _table() -> pd.DataFrame:
    rows = [
        ("all choice_3", 324, [73.41, 73.39, 73.40], 0.51234),
        ("ours (block & channel)", 328, [74.70, 74.72, 74.68], float("nan")),
    ]
    return pd.DataFrame(
        {
            "method": [r[0] for r in rows],
            "macs_m": [r[1] for r in rows],
            "top1": [fmt_mean_std(*mean_std(r[2])) for r in rows],
            "tau": [r[3] for r in rows],
        }
    )


def test_write_table_three_formats(tmp_path: Path) -> None:
    paths = write_table(_table(), tmp_path / "tables" / "spos_t3", caption="SPOS 100% & more")
    assert sorted(p.name for p in paths.values()) == ["spos_t3.csv", "spos_t3.md", "spos_t3.tex"]
    csv_text = paths["csv"].read_text(encoding="utf-8")
    md = paths["md"].read_text(encoding="utf-8")
    tex = paths["tex"].read_text(encoding="utf-8")
    assert csv_text.splitlines()[0] == "method,macs_m,top1,tau"
    assert "73.40 ± 0.01" in csv_text and "0.51234" in csv_text  # CSV keeps full precision
    assert "| 73.40 ± 0.01 |" in md and "|  0.51 |" in md and "Table: SPOS 100% & more" in md
    assert md.splitlines()[1].startswith("|:") and md.splitlines()[1].rstrip("|").endswith(":")
    assert r"73.40 $\pm$ 0.01" in tex and "±" not in tex
    assert r"all choice\_3" in tex and r"ours (block \& channel)" in tex
    assert r"\caption{SPOS 100\% \& more}" in tex
    assert r"\begin{tabular}{lrlr}" in tex
    back = pd.read_csv(paths["csv"])
    assert list(back["macs_m"]) == [324, 328] and math.isnan(back["tau"][1])
    # the rendered text is exactly what was written
    assert render_table(_table(), caption="SPOS 100% & more", float_digits=2) == {
        "csv": csv_text, "md": md, "tex": tex,
    }
    assert not list(paths["csv"].parent.glob(".*tmp"))


def test_write_table_byte_identical_on_rerun(tmp_path: Path) -> None:
    a = write_table(_table(), tmp_path / "a" / "t", caption="c")
    b = write_table(_table(), tmp_path / "b" / "t", caption="c")
    for ext in ("csv", "md", "tex"):
        assert a[ext].read_bytes() == b[ext].read_bytes()


@pytest.mark.parametrize(
    "bad",
    [
        pd.DataFrame(),
        pd.DataFrame([[1, 2]], columns=["x", "x"]),
        pd.DataFrame([[1, 2]], columns=pd.MultiIndex.from_tuples([("a", "b"), ("a", "c")])),
        [[1, 2]],
    ],
)
def test_invalid_table_writes_nothing(tmp_path: Path, bad: object) -> None:
    with pytest.raises((ValueError, TypeError)):
        write_table(bad, tmp_path / "t")  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_failure_midway_leaves_no_partial_table(tmp_path: Path, monkeypatch) -> None:
    """If writing one of the three files fails, none of them appears (old files untouched)."""
    write_table(_table(), tmp_path / "t")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    original = Path.write_text

    def failing(self: Path, text: str, *args, **kwargs) -> int:
        if ".t.tex." in self.name:
            raise OSError("disk full")
        return original(self, text, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", failing)
    changed = _table().assign(macs_m=[1, 2])
    with pytest.raises(OSError, match="disk full"):
        write_table(changed, tmp_path / "t")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


# --- figures -----------------------------------------------------------------------------


def _curves() -> dict:
    evo = [[(n, min(n, 30) / 30) for n in range(1, 101)], [(n, min(n, 40) / 40) for n in
                                                          range(1, 101)]]
    rnd = [{"n_evaluated": n, "best_fitness": 0.5 + n / 400} for n in range(1, 101)]
    return {"evolution": evo, "random": rnd}


def test_save_figure_byte_identical(tmp_path: Path) -> None:
    ax = plot_search_curves(_curves())
    first = save_figure(ax.figure, tmp_path / "one" / "fig")
    second = save_figure(ax.figure, tmp_path / "two" / "fig")
    assert sorted(p.name for p in first.values()) == ["fig.pdf", "fig.png"]
    for ext in ("pdf", "png"):
        data = first[ext].read_bytes()
        assert len(data) > 1000
        assert data == second[ext].read_bytes()
    assert first["pdf"].read_bytes().startswith(b"%PDF")
    assert first["png"].read_bytes().startswith(b"\x89PNG")
    assert b"CreationDate" not in first["pdf"].read_bytes()
    plt.close(ax.figure)
    # a freshly drawn identical figure gives the same bytes too
    ax2 = plot_search_curves(_curves())
    third = save_figure(ax2.figure, tmp_path / "three" / "fig")
    plt.close(ax2.figure)
    for ext in ("pdf", "png"):
        assert third[ext].read_bytes() == first[ext].read_bytes()


def test_plot_search_curves_mean_and_band() -> None:
    ax = plot_search_curves(_curves(), band="minmax")
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    assert set(lines) == {"evolution (n=2)", "random"}
    y = np.asarray(lines["evolution (n=2)"].get_ydata(), dtype=float)
    # at n = 30 the seeds are at 1.0 and 0.75; mean 0.875
    x = np.asarray(lines["evolution (n=2)"].get_xdata(), dtype=float)
    assert y[x == 30][0] == pytest.approx(0.875)
    assert y[-1] == pytest.approx(1.0)
    assert len(ax.collections) == 1  # one band (the single-run curve has none)
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="band"):
        plot_search_curves(_curves(), band="iqr")


def test_plot_search_curves_unequal_grids() -> None:
    ax = plot_search_curves({"s": [[(1, 0.1), (10, 0.5)], [(5, 0.3), (10, 0.4)]]})
    line = ax.get_lines()[0]
    x = list(np.asarray(line.get_xdata(), dtype=float))
    y = np.asarray(line.get_ydata(), dtype=float)
    assert x == [1.0, 5.0, 10.0]
    assert y[0] == pytest.approx(0.1)  # only seed 0 has a value at n=1
    assert y[1] == pytest.approx(0.2) and y[2] == pytest.approx(0.45)
    plt.close(ax.figure)


def test_plot_scatter_with_tau() -> None:
    ci = {"tau": 0.5312, "low": 0.31, "high": 0.7, "pvalue": 0.01, "n": 20}
    assert tau_text(ci) == "Kendall τ = 0.53 [0.31, 0.70], n = 20"
    x = np.linspace(0, 1, 20)
    labels = ["random"] * 15 + ["searched"] * 5
    ax = plot_scatter_with_tau(x, x**2, labels, ci, "supernet acc", "standalone acc")
    assert ax.get_title() == tau_text(ci)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["random", "searched"]
    assert [len(c.get_offsets()) for c in ax.collections] == [15, 5]
    assert ax.get_xlabel() == "supernet acc"
    plt.close(ax.figure)
    ax = plot_scatter_with_tau([1, 2], [1, 2], None, {"tau": float("nan")}, "a", "b")
    assert ax.get_legend() is None and ax.get_title() == "Kendall τ = nan"
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="one entry per point"):
        plot_scatter_with_tau([1, 2], [1, 2], ["a"], ci, "a", "b")
