"""``nasrepro plan`` (issue 15): an estimate for every rule of the tiny DAG and a total, the
work model of each rule, the dry-run parser, and a calibration. Seconds: the step times of the
CLI test come from a CSV (as a ``bench/gpu.py`` run gives them), so only the dry run runs."""

from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path

import pytest

from nasrepro.config import load_config
from nasrepro.plan import (
    Job,
    StepTime,
    calibrate,
    estimate,
    format_plan,
    job_work,
    parse_dry_run,
    train_size,
)
from nasrepro.speed import WORKLOADS

REPO = Path(__file__).resolve().parent.parent
#: target rules that only gather other rules' outputs (not required by `all`)
TARGET_ONLY = {"spos", "darts_snas", "attentivenas", "fbnetv3", "paper"}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _step_csv(path: Path) -> Path:
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["workload", "variant", "batch", "step_ms",
                                           "device_name"])
        w.writeheader()
        for name in WORKLOADS:
            w.writerow({"workload": name, "variant": "eager fp32", "batch": 32,
                        "step_ms": 100.0, "device_name": "test CPU"})
            w.writerow({"workload": name, "variant": "fused", "batch": 32, "step_ms": 1.0,
                        "device_name": "test CPU"})
    return path


def test_plan_tiny_prints_every_rule_and_a_total(cli, tmp_path: Path) -> None:
    proc = cli("plan", "--config", "profile=tiny", "--step-times",
               str(_step_csv(tmp_path / "times.csv")))
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    from nasrepro.config import PAPERS
    from nasrepro.paths import RUN_STAGES
    from nasrepro.stages import grid_of

    config = load_config("tiny")
    rules = {m.group(1) for f in (REPO / "workflow" / "rules").glob("*.smk")
             for m in re.finditer(r"^rule (\w+):", f.read_text(), re.M)} - TARGET_ONLY
    # + the stage rules <paper>_<stage> that workflow/rules/stages.smk makes from the grids
    rules |= {f"{p}_{s}" for p in PAPERS for s in RUN_STAGES if grid_of(p).runs(config, s)}
    assert {"spos_train_supernet", "darts_snas_search", "fbnetv3_retrain", "tables"} <= rules
    timed = re.compile(r"^(\w+)\s+(\d+)\s+\S+\s+[\d.]+ (s|min|h)\s+[\d.]+ (s|min|h)\s", re.M)
    printed = {m.group(1): int(m.group(2)) for m in timed.finditer(out)}
    assert rules <= set(printed), sorted(rules - set(printed))
    assert re.search(r"^whole DAG\s+\d+\s+[\d.]+ (s|min|h)\s+one job at a time", out, re.M)
    assert "measured (CSV, test CPU)" in out and "100.0 ms" in out  # eager rows, not fused
    # tiny: fixed 4 x 1 display seed + random 3 x 3 + block searches 2 x 2 (main) + 2 x 1
    # (flops-binned) + channel 1 + block_channel 1; darts/snas: (2 + 4 levels) x 2 seeds
    assert printed["spos_retrain"] == 21 and printed["darts_snas_search"] == 12


def test_parse_dry_run() -> None:
    text = ("Building DAG of jobs...\nrule spos_search:\n    input: a\n    jobid: 3\n"
            "    wildcards: cell=block/flops-binned/evolution, seed=0\n"
            "    resources: tmpdir=/tmp\n\nlocalrule all:\n    input: b\n    jobid: 0\n\n"
            "Job stats:\njob count\n")
    jobs = parse_dry_run(text)
    assert [j.rule for j in jobs] == ["spos_search", "all"]
    assert jobs[0].wildcards == {"cell": "block/flops-binned/evolution", "seed": "0"}
    assert jobs[1].wildcards == {}


def test_job_work_follows_the_config() -> None:
    config = load_config("tiny")
    n = train_size(config)
    assert n == 1797 - 297 - 300  # digits train split minus val_size
    counts = Counter({"spos_retrain": 29})
    w = job_work(config, Job("spos_train_supernet", {"cell": "block/uniform", "seed": "0"}),
                 counts)
    assert (w.workload, w.steps) == ("spos_supernet", 6 * (n // 64))
    w = job_work(config, Job("darts_snas_search", {"cell": "darts-2nd", "seed": "0"}), counts)
    assert (w.workload, w.steps) == ("darts_search_2nd", 2 * 2)  # capped steps_per_epoch
    w = job_work(config, Job("darts_snas_search", {"cell": "snas-mild", "seed": "0"}), counts)
    assert w.workload == "snas_search"
    an = {cell: job_work(config, Job("attentivenas_search", {"cell": cell, "seed": "0"}), counts)
          for cell in ("main/uniform", "short/uniform")}  # the search of main, not of short
    ac = config["attentivenas"]
    assert an["main/uniform"].forward["sandwich"] != an["short/uniform"].forward["sandwich"]
    assert f"{int(ac['n_subnets']) + 2} subnets" in an["short/uniform"].note
    bestup, uniform = (job_work(config, Job("attentivenas_train_supernet",
                                            {"cell": f"main/{s}", "seed": "0"}), counts)
                       for s in ("bestup", "uniform"))
    assert "candidates scored" in bestup.note and "candidates scored" not in uniform.note
    w = job_work(config, Job("report", {}), counts)
    assert w.workload is None and w.fixed_s > 0
    w = job_work(config, Job("spos_inherit", {}), counts)
    assert w.forward["spos_supernet"] > 0


def test_estimate_scales_with_step_time() -> None:
    config = load_config("tiny")
    jobs = [Job("spos_retrain", {"cell": "fixed/all_choice_3", "seed": "0"}), Job("all")]
    fast = {n: StepTime(0.01, 64, "x") for n in WORKLOADS}
    slow = {n: StepTime(0.02, 64, "x") for n in WORKLOADS}
    a, b = estimate(config, jobs, fast, 0.0), estimate(config, jobs, slow, 0.0)
    assert b[0].seconds == pytest.approx(2 * a[0].seconds)
    assert a[1].seconds == 0.0  # the target rule runs nothing
    text = format_plan(config, a, fast, gpu=True, parallel=1)
    assert "GPU-hours" in text and "whole DAG" in text


def test_calibrate_measures_here() -> None:
    times = calibrate(load_config("tiny"), ["darts_eval", "spos_retrain"], device="cpu",
                      steps=1, warmup=0)
    assert set(times) == {"darts_eval", "spos_retrain"}
    assert all(t.seconds > 0 and t.source == "measured here (cpu)" for t in times.values())


def test_reference_times_of_the_gpu_profiles() -> None:
    """Planned without a GPU: the H200 figures for the cifar10 networks, passes for the other
    DARTS/SNAS steps, analytic MACs for the rest (ImageNet), each labelled."""
    from nasrepro.plan import H200_REFERENCE, reference_times

    names = list(WORKLOADS)
    c10 = reference_times(load_config("cifar10"), names)
    assert set(c10) == set(names)
    for name, (sec, _) in H200_REFERENCE.items():
        assert c10[name].seconds == sec and c10[name].source.startswith("measured H200")
    assert c10["snas_search"].seconds == pytest.approx(0.5 * c10["darts_search"].seconds)
    assert c10["darts_search_2nd"].seconds == pytest.approx(2.5 * c10["darts_search"].seconds)
    assert c10["fbnetv3_candidate"].source.startswith("extrapolated")
    imagenet = reference_times(load_config("imagenet"), names)
    assert imagenet["darts_search"].seconds == c10["darts_search"].seconds  # same network
    assert imagenet["spos_supernet"].source.startswith("extrapolated")
    # 224 px, batch 1024 vs 32 px, batch 256: far more work per step
    assert imagenet["spos_supernet"].seconds > 10 * c10["spos_supernet"].seconds


def test_plan_calibrates_on_the_profile_convolution_kernels(monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    """``cpu_isa: portable`` (tiny) runs convolutions on ATen's own kernels, about 1.6x slower
    than oneDNN: the planner times the networks on the kernels the jobs will use, and leaves
    torch's choice as it was."""
    import torch

    import nasrepro.plan as plan

    seen: list[bool] = []
    monkeypatch.setattr(plan, "calibrate", lambda config, names, **kw: (
        seen.append(torch.backends.mkldnn.enabled)
        or {n: StepTime(0.01, 64, "measured here (cpu)") for n in names}))
    jobs = [Job("spos_retrain", {"cell": "fixed/all_choice_3", "seed": "0"})]
    for isa, onednn in (("portable", False), ("avx2", True)):
        config = {**load_config("tiny"), "cpu_isa": isa}
        plan.run_plan(config, [], device="cpu", jobs=jobs)
        assert seen[-1] is onednn
        assert torch.backends.mkldnn.enabled  # restored
