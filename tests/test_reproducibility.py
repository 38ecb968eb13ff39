"""Reproducibility of the whole DAG (issue 6): a training job killed mid-run resumes from its
checkpoint and ends with exactly the uninterrupted result; the claims, leaderboard and report
are built. That two runs give byte-identical tables is tested against the committed reference
(tests/test_verify.py: the session's tiny DAG equals paper/tiny/, made by another run)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import torch

from tests.conftest import REPO


def test_claims_leaderboard_and_report(tiny_dag: tuple[Path, Path]) -> None:
    results, paper = tiny_dag
    names = {p.name for p in (results / "tables").glob("*.csv")}
    assert {f"{p}_measurements.csv" for p in ("spos", "darts_snas", "attentivenas", "fbnetv3")} \
        | {"claims.csv", "leaderboard.csv"} <= names
    claims = pd.read_csv(results / "tables" / "claims.csv")
    assert len(claims) == 18
    assert set(claims["verdict"]) <= {"reproduced", "not reproduced", "inconclusive",
                                      "underpowered", "not testable"}, \
        claims.loc[claims["verdict"] == "not run", ["id", "note"]].to_string()
    guarded = claims["guard"].fillna("").str.startswith("failed")
    assert (claims.loc[guarded, "verdict"] == "not testable").all()
    tested = claims["verdict"] != "not testable"
    assert claims.loc[tested, "run_dirs"].str.len().gt(0).all()
    board = pd.read_csv(results / "tables" / "leaderboard.csv")
    # AttentiveNAS retrains no arch (its study compares supernets), so it has no row here
    assert set(board["paper"]) >= {"spos", "darts_snas", "fbnetv3"}
    report = (paper / "REPORT.md").read_text()
    for heading in ("## Claims", "## Leaderboard", "## NAS best-practices checklist", "SPOS",
                    "SNAS", "AttentiveNAS", "FBNetV3", "seeds needed"):
        assert heading in report
    assert "Lindauer & Hutter" in (paper / "checklist.md").read_text()
    for png in (paper / "spos" / "figures").glob("*.png"):
        assert f"spos/figures/{png.name}" in report
    assert (paper / "claims.md").exists() and (paper / "leaderboard.tex").exists()


def _pids_of(pattern: str) -> list[int]:
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if pattern in cmd and "snakemake" not in cmd and "tee" not in cmd:
            pids.append(int(proc.name))
    return pids


def test_killed_training_job_resumes_to_the_same_result(tiny_dag: tuple[Path, Path],
                                                        tmp_path: Path) -> None:
    """SIGKILL the supernet-training job after its first checkpoint, rerun the DAG: it resumes
    and ends bit-identical to the uninterrupted run of the session's tiny DAG."""
    reference, _ = tiny_dag
    rel = Path("spos") / "train_supernet" / "block" / "uniform" / "seed0"
    for attempt in range(3):
        results = tmp_path / f"try{attempt}" / "results"
        run_dir = results / "tiny" / rel
        target = str(run_dir / "provenance.json")  # the run (its rule's output)
        env = dict(os.environ, NASREPRO_OFFLINE="1",
                   NASREPRO_METHODS=str(REPO / "tests" / "toy_methods"))
        cmd = [sys.executable, "-m", "snakemake", target, "--cores", "1", "--quiet", "rules",
               "--nolock", "--configfile", str(REPO / "tests" / "config" / "e2e.yaml"),
               "--config", "profile=tiny", f"results_dir={results}",
               f"paper_dir={tmp_path / 'paper'}"]
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)
        deadline = time.time() + 600
        killed_at_epoch = None
        while time.time() < deadline and proc.poll() is None:
            ckpt = run_dir / "checkpoint.pt"
            if ckpt.exists() and not (run_dir / "supernet.pt").exists():
                pids = _pids_of(f"--out {run_dir}")
                if pids:
                    for pid in pids:
                        os.kill(pid, signal.SIGKILL)
                    killed_at_epoch = int(torch.load(ckpt, map_location="cpu",
                                                     weights_only=False)["epoch"])
                    break
            time.sleep(0.02)
        proc.communicate(timeout=600)
        if killed_at_epoch is not None:
            break
    else:
        pytest.fail("could not catch the training job between its first checkpoint and its end")
    assert proc.returncode != 0  # the DAG saw its training job die
    assert not (run_dir / "supernet.pt").exists() and (run_dir / "checkpoint.pt").exists()
    rerun = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    assert not (run_dir / "checkpoint.pt").exists()  # removed once the run completed
    ref_dir = reference / rel
    assert (run_dir / "log.csv").read_bytes() == (ref_dir / "log.csv").read_bytes()
    a = torch.load(run_dir / "supernet.pt", map_location="cpu", weights_only=False)
    b = torch.load(ref_dir / "supernet.pt", map_location="cpu", weights_only=False)
    sa, sb = a["state_dict"], b["state_dict"]
    assert sa.keys() == sb.keys()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert killed_at_epoch < len(pd.read_csv(ref_dir / "log.csv")) - 1


def test_snakemake_html_report(tiny_dag: tuple[Path, Path], tmp_path: Path) -> None:
    """`snakemake --report` packs every table and figure, each with its caption."""
    results, paper = tiny_dag
    html = tmp_path / "report.html"
    env = dict(os.environ, NASREPRO_OFFLINE="1",
               NASREPRO_METHODS=str(REPO / "tests" / "toy_methods"))
    cmd = [sys.executable, "-m", "snakemake", "--report", str(html), "--nolock",
           "--configfile", str(REPO / "tests" / "config" / "e2e.yaml"), "--config",
           "profile=tiny", f"results_dir={results.parent}", f"paper_dir={paper.parent}"]
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = html.read_text(errors="replace")
    for name in ("spos_table3", "claims", "leaderboard", "darts_snas", "attentivenas_pareto",
                 "fbnetv3"):
        assert name in text, f"{name} missing from the HTML report"


def test_killed_fbnetv3_search_resumes_from_its_finished_candidates(
        tiny_dag: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        one_torch_thread) -> None:
    """An FBNetV3 search killed after some candidate trainings keeps their curves: the rerun
    trains only the others and ends with the files of the session DAG's uninterrupted search;
    the work folder is gone afterwards."""
    from nasrepro.config import load_config
    from nasrepro.experiments.common import set_threads
    from nasrepro.papers.fbnetv3 import experiment as fb

    reference, _ = tiny_dag
    config = load_config("tiny", {"results_dir": str(reference.parent), "progress": False})
    set_threads(config)
    proxy = reference / "fbnetv3" / "study" / "pretrain" / "proxy.pt"
    out = tmp_path / "A_joint"
    real, calls = fb.train_candidate, []

    def train_then_die(*args, **kwargs):
        if len(calls) == 3:
            raise KeyboardInterrupt  # the job is killed during its fourth candidate
        calls.append(kwargs["run_dir"].name)
        return real(*args, **kwargs)

    monkeypatch.setattr(fb, "train_candidate", train_then_die)
    with pytest.raises(KeyboardInterrupt):
        fb.run_search(config, "A", "joint", proxy, int(config["fbnetv3"]["search_seed"]), out)
    assert len(list((out / fb.CANDIDATE_WORK).glob("*-stop*.json"))) == 3
    resumed = []
    monkeypatch.setattr(fb, "train_candidate",
                        lambda *a, **k: resumed.append(k["run_dir"].name) or real(*a, **k))
    fb.run_search(config, "A", "joint", proxy, int(config["fbnetv3"]["search_seed"]), out)
    ref = reference / "fbnetv3" / "search" / "A_joint" / "seed0"
    for name in ("best.json", "candidates.jsonl", "coarse.csv", "early_stop.csv"):
        assert (out / name).read_bytes() == (ref / name).read_bytes(), name
    assert resumed and not set(calls) & set(resumed)  # the 3 finished ones were not retrained
    assert not (out / fb.CANDIDATE_WORK).exists()


def test_fbnetv3_search_discards_curves_kept_with_other_settings(
        tiny_dag: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        one_torch_thread) -> None:
    """The work folder of a search made with other settings (another config, proxy or seed) is
    thrown away before the first candidate trains: no stale curve is replayed."""
    from nasrepro.config import load_config
    from nasrepro.experiments.common import set_threads
    from nasrepro.io import read_json, write_json
    from nasrepro.papers.fbnetv3 import experiment as fb

    reference, _ = tiny_dag
    config = load_config("tiny", {"results_dir": str(reference.parent), "progress": False})
    set_threads(config)
    proxy = reference / "fbnetv3" / "study" / "pretrain" / "proxy.pt"
    work = tmp_path / "A_joint" / fb.CANDIDATE_WORK
    write_json(work / "identity.json", {"settings": "made-with-other-settings"})
    write_json(work / "stale-candidate.json", [99.0, 99.0])

    def die(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(fb, "train_candidate", die)
    with pytest.raises(KeyboardInterrupt):
        fb.run_search(config, "A", "joint", proxy, int(config["fbnetv3"]["search_seed"]),
                      tmp_path / "A_joint")
    assert not (work / "stale-candidate.json").exists()
    assert read_json(work / "identity.json")["settings"] != "made-with-other-settings"
