"""The reference check (issue 17): ``nasrepro verify`` compares tables cell by cell and names
every differing cell; ``nasrepro reference`` writes a reference; and the session's tiny DAG
(tests/conftest.py ``tiny_dag``) equals the committed ``paper/tiny/`` exactly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nasrepro.errors import NasreproError
from nasrepro.io import read_json
from nasrepro.reporting.verify import (
    TOLERANCES,
    compare,
    cpu_label,
    tolerance,
    verify,
    write_reference,
)
from tests.conftest import REPO, run_cli

MEASUREMENTS = ("quantity,group,seed,value,run_dir\n"
                "retrain_test_acc,fixed/a,0,82.94,spos/retrain/fixed/a/seed0\n"
                "retrain_test_acc,fixed/a,1,81.8,spos/retrain/fixed/a/seed1\n")
TABLE = ("row,top1_mean,search_cost_h,run_dirs\n"
         "all choice_3,82.8,0.0453,spos/retrain/fixed/a/seed0\n"
         "SPS + evolution,83.5,0.0411,spos/search\n")
CLAIMS = "id,paper,effect,verdict\nS1,spos,-1.5467,not reproduced\n"


def _folder(root: Path, **replace: tuple[str, str]) -> Path:
    """A paper/<profile>-like folder; ``replace[name] = (old, new)`` edits one file's text."""
    files = {"spos/tables/spos_measurements.csv": MEASUREMENTS,
             "spos/tables/spos_table3.csv": TABLE, "claims.csv": CLAIMS,
             "spos/benchmarks.csv": "rule,jobs,job_seconds_total\nspos/search,1,12.5\n"}
    for rel, text in files.items():
        name = Path(rel).stem
        if name in replace:
            old, new = replace[name]
            assert old in text
            text = text.replace(old, new)
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def test_verify_prints_each_differing_cell(tmp_path: Path, capsys) -> None:
    ref = _folder(tmp_path / "ref")
    assert verify(_folder(tmp_path / "same"), ref)
    assert "all 3 tables equal the reference" in capsys.readouterr().out
    new = _folder(tmp_path / "new", spos_measurements=("81.8", "81.9"),
                  claims=("not reproduced", "inconclusive"))
    diffs = compare(new, ref)
    assert [(d.file, d.row, d.column, d.reference, d.new) for d in diffs] == [
        ("claims.csv", "id=S1 paper=spos", "verdict", "not reproduced", "inconclusive"),
        ("spos_measurements.csv", "quantity=retrain_test_acc group=fixed/a seed=1", "value",
         "81.8", "81.9")]
    assert not verify(new, ref)
    out = capsys.readouterr().out
    assert ("spos_measurements.csv | quantity=retrain_test_acc group=fixed/a seed=1 | value | "
            "reference 81.8 | new 81.9") in out
    assert "2 differences in 2 of 3 tables" in out


def test_cli_exit_status_0_equal_1_different_2_usage_error(tmp_path: Path) -> None:
    ref, same = _folder(tmp_path / "ref"), _folder(tmp_path / "same")
    new = _folder(tmp_path / "new", claims=("-1.5467", "-1.5468"))
    proc = run_cli("verify", str(same), str(ref))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = run_cli("verify", str(new), str(ref))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "claims.csv | id=S1 paper=spos | effect | reference -1.5467 | new -1.5468" in \
        proc.stdout
    proc = run_cli("verify", str(tmp_path / "nowhere"), str(ref))
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert proc.stderr.startswith(f"error: new results folder {tmp_path / 'nowhere'} does not "
                                  f"exist;")


def test_wall_clock_columns_and_benchmarks_are_not_compared(tmp_path: Path) -> None:
    ref = _folder(tmp_path / "ref")
    new = _folder(tmp_path / "new", spos_table3=("0.0453", "0.0999"),
                  benchmarks=("12.5", "99.0"))
    assert compare(new, ref) == []
    assert TOLERANCES["search_cost_h"] is None  # excluded, and declared in one place
    assert tolerance("value", {"quantity": "search_cost_h"}) is None
    assert tolerance("value", {"quantity": "retrain_test_acc"}) == 0.0
    assert tolerance("top1_mean", {}) == 0.0


def test_missing_rows_columns_and_files_are_differences(tmp_path: Path) -> None:
    ref = _folder(tmp_path / "ref")
    new = _folder(tmp_path / "new", spos_table3=("SPS + evolution", "SPS + random"))
    (new / "claims.csv").unlink()
    (new / "extra.csv").write_text("a\n1\n")
    got = {(d.file, d.row, d.new) for d in compare(new, ref)}
    assert ("claims.csv", "-", "file missing") in got
    assert ("extra.csv", "-", "new file") in got
    assert ("spos_table3.csv", "row=SPS + evolution", "row missing") in got
    assert ("spos_table3.csv", "row=SPS + random", "new row") in got


def test_missing_or_empty_reference_is_a_usage_error(tmp_path: Path) -> None:
    run = _folder(tmp_path / "run")
    with pytest.raises(NasreproError, match="reference folder .* does not exist; write it "
                                            "with `make reference"):
        compare(run, tmp_path / "noref")
    (tmp_path / "empty").mkdir()
    with pytest.raises(NasreproError, match="no table CSV"):
        compare(run, tmp_path / "empty")


def test_reference_csv_only_round_trip(tmp_path: Path, capsys) -> None:
    run = _folder(tmp_path / "run")
    (run / "spos" / "figures").mkdir()
    (run / "spos" / "figures" / "curve.png").write_bytes(b"png")
    (run / "spos" / "provenance.json").write_text(json.dumps({
        "git_commits": ["abc-dirty"], "code_dirty_runs": 2, "dirty_code_files": ["nasrepro/x.py"],
        "n_runs": 2, "runs": [{"device": {"cpu_model": "CPU X", "cpu_capability": "AVX2"}}]}))
    ref = tmp_path / "paper" / "tiny"
    ref.mkdir(parents=True)
    (ref / "stale.csv").write_text("a\n1\n")  # replaced wholesale
    write_reference(run, ref, csv_only=True, command="make reference PROFILE=tiny")
    kept = sorted(str(p.relative_to(ref)) for p in ref.rglob("*") if p.is_file())
    assert kept == ["REFERENCE.json", "claims.csv", "spos/tables/spos_measurements.csv",
                    "spos/tables/spos_table3.csv"]
    summary = json.loads((ref / "REFERENCE.json").read_text())
    assert summary["git_commits"] == ["abc-dirty"] and summary["code_dirty_runs"] == 2
    assert summary["cpus"] == ["CPU X (AVX2)"]
    assert "runs were made from a dirty code tree" in capsys.readouterr().err
    assert verify(run, ref)
    assert "commit abc-dirty [CODE DIRTY] on CPU X (AVX2)" in capsys.readouterr().out


def test_cpu_label_says_when_the_kernels_are_capped() -> None:
    from nasrepro.io import device_info
    from nasrepro.reporting.verify import cpu_label

    assert cpu_label({"cpu_model": "CPU X", "cpu_capability": "AVX2"}) == "CPU X (AVX2)"
    assert cpu_label({"cpu_model": "CPU X", "cpu_capability": "AVX2",
                      "cpu_native_isa": "AVX2"}) == "CPU X (AVX2)"
    assert cpu_label({"cpu_model": "CPU X", "cpu_capability": "AVX2",
                      "cpu_native_isa": "AVX512"}) == "CPU X (AVX2 on AVX512)"
    portable = {"cpu_model": "CPU X", "cpu_capability": "AVX2", "cpu_native_isa": "AVX512",
                "onednn_convs": False, "isa_env": {"MKL_CBWR": "COMPATIBLE"}}
    assert cpu_label(portable) == "CPU X (AVX2 on AVX512, portable)"
    assert cpu_label({**portable, "onednn_convs": True}) == "CPU X (AVX2 on AVX512)"
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    native = device_info()["cpu_native_isa"]
    if " avx512f" in flags:
        assert native == "AVX512"
    elif " avx2" in flags:
        assert native == "AVX2"


def test_tiny_dag_equals_the_committed_reference(tiny_dag: tuple[Path, Path]) -> None:
    """The session's tiny DAG is made by the same invocation as `make reference PROFILE=tiny`,
    so every table CSV must equal paper/tiny/ exactly (wall-clock columns aside). A change
    that moves results fails here: rerun `make reference PROFILE=tiny` and commit paper/tiny/
    if the change is intended."""
    results, paper = tiny_dag
    diffs = compare(paper, REPO / "paper" / "tiny")
    if diffs:  # say on which CPUs each side was made (docs/reproducibility.md, cpu_isa)
        made_on = json.loads((REPO / "paper" / "tiny" / "REFERENCE.json").read_text())["cpus"]
        here = sorted({cpu_label(prov["device"]) for prov in
                       map(read_json, results.rglob("provenance.json")) if "device" in prov})
        pytest.fail(f"the tiny DAG differs in {len(diffs)} cells from the committed reference "
                    f"paper/tiny/ (made on {made_on}; this run on {here}; intended? run "
                    "`make reference PROFILE=tiny` and commit it):\n"
                    + "\n".join(str(d) for d in diffs[:40]))
