"""Clean provenance (issue 17): a run records the commit of its code and whether the *code*
paths were dirty; the reference copies the `paper` rule writes into paper/<profile>/ do not make
the tree dirty; the report names every commit that produced its numbers and warns loudly when
the code was dirty."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from nasrepro.io import CODE_PATHS, code_state, warn_if_dirty, write_provenance


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True,
                          text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository laid out like nasrepro's, with one commit."""
    for rel in ("nasrepro/io.py", "config/tiny.yaml", "paper/claims.yaml",
                "paper/default/spos/tables/spos_table3.csv", "README.md", "Snakefile"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x\n")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "c")
    return tmp_path


def test_paper_outputs_do_not_make_the_code_dirty(repo: Path) -> None:
    sha = _git(repo, "rev-parse", "HEAD")
    assert code_state(repo) == {"git_commit": sha, "code_dirty": False, "dirty_code_files": []}
    # what rule paper writes while other jobs run: reference copies, reports, new folders
    (repo / "paper/default/spos/tables/spos_table3.csv").write_text("changed\n")
    (repo / "paper/default/REPORT.md").write_text("new\n")
    (repo / "paper/tiny/claims.csv").parent.mkdir(parents=True)
    (repo / "paper/tiny/claims.csv").write_text("new\n")
    (repo / "README.md").write_text("edited\n")
    (repo / "nasrepro/papers/spos").mkdir(parents=True)  # a per-paper manual
    (repo / "nasrepro/papers/spos/README.md").write_text("new manual\n")
    assert code_state(repo)["code_dirty"] is False


def test_code_changes_are_dirty_and_listed(repo: Path, capsys) -> None:
    sha = _git(repo, "rev-parse", "HEAD")
    (repo / "nasrepro/io.py").write_text("changed\n")
    (repo / "nasrepro/new_module.py").write_text("untracked code runs too\n")
    (repo / "paper/claims.yaml").write_text("an input of the claims rule\n")
    state = code_state(repo)
    assert state == {"git_commit": f"{sha}-dirty", "code_dirty": True,
                     "dirty_code_files": ["nasrepro/io.py", "nasrepro/new_module.py",
                                          "paper/claims.yaml"]}
    warn_if_dirty(state, "run/provenance.json")
    err = capsys.readouterr().err
    assert err.startswith("warning: code tree dirty (3 files: nasrepro/io.py, ")
    assert f"records {sha}-dirty" in err


def test_outside_git_the_commit_is_unknown(tmp_path: Path) -> None:
    assert code_state(tmp_path)["git_commit"] == "unknown"


def test_code_paths_cover_the_inputs_not_the_outputs() -> None:
    for path in ("nasrepro", "methods", "workflow", "config", "pyproject.toml",
                 "paper/claims.yaml", "paper/published.yaml", "paper/report_template.md"):
        assert path in CODE_PATHS
    assert not any(p in ("paper", "results") or p.startswith(("paper/default", "paper/tiny"))
                   for p in CODE_PATHS)


def test_provenance_records_commit_state_threads_and_cpu(tmp_path: Path) -> None:
    from nasrepro.io import read_json

    write_provenance(tmp_path, config={"threads": 1}, seed=0, wall_time_s=1.0)
    prov = read_json(tmp_path / "provenance.json")
    for key in ("git_commit", "code_dirty", "dirty_code_files"):
        assert key in prov
    for key in ("cpu_model", "cpu_capability", "torch_threads", "torch_interop_threads",
                "deterministic_algorithms"):
        assert key in prov["device"]


def _paper_prov(commit_runs: dict[str, int], dirty: int = 0, files: tuple = ()) -> dict:
    return {"git_commits": sorted(commit_runs), "git_commit_runs": commit_runs,
            "code_dirty_runs": dirty, "dirty_code_files": list(files), "devices": ["cpu"],
            "versions": {"torch": "2"}}


def test_report_names_every_commit_and_warns_when_dirty() -> None:
    from nasrepro.reporting.report import _provenance

    text, warning = _provenance([_paper_prov({"a" * 40: 12}), _paper_prov({"a" * 40: 3})])
    assert text == f"`{'a' * 40}` (15 runs)" and warning == ""
    text, warning = _provenance([_paper_prov({"a" * 40: 12}),
                                 _paper_prov({"b" * 40 + "-dirty": 3}, dirty=3,
                                             files=("nasrepro/io.py",))])
    assert text == f"**2 commits**: `{'a' * 40}` (12 runs), `{'b' * 40}-dirty` (3 runs)"
    assert warning.startswith("> **Warning: made from a dirty code tree.** 3 run(s)")
    assert "`nasrepro/io.py`" in warning
