"""``nasrepro plan``: the wall time of every rule and of the whole DAG, before anything runs.

Issue 15. Three parts:

1. **Jobs** — from the DAG itself: ``snakemake -n --forceall`` of the profile (with the same
   ``--config`` overrides, into a scratch ``results_dir``), parsed for each job's rule and
   wildcards. The DAG is the authority on which jobs exist (every method, seed, role and
   searcher of the config grid), so nothing of the grid is re-derived here.
2. **Work per job** — :func:`job_work`, from the resolved config: training steps of one
   network (``epochs x steps per epoch`` of the recipe on the profile's split sizes, SNAS's
   own epochs, DARTS's half split, FBNetV3's candidate trainings), forward-only images of
   evaluations (BN recalibration + validation per evaluated candidate or per epoch), and
   assumed constants for the cheap rules (tables, figures, claims, report, priors).
3. **Time per step** — measured, or extrapolated, and always labelled:
   * ``measured here``: a short calibration on this machine (:mod:`nasrepro.speed`: the
     pipeline's own step of each network, median of a few steps after a warm-up) — the
     default for CPU profiles (``tiny``, ``default``) and for any profile when this machine
     has the profile's device;
   * ``measured (CSV)``: eager fp32 rows of a ``bench/gpu.py`` CSV (``--step-times``);
   * ``measured H200`` / ``extrapolated``: for GPU profiles planned without their GPU, the
     issue-15 H200 measurements of the cifar10 networks (:data:`H200_REFERENCE`, 2026-11-30)
     are used as they are for cifar10, and scaled by the step's FLOP count (counted on CPU
     at batch 2, :func:`nasrepro.metrics.cost.step_flops`, times batch/2) for other profiles
     (ImageNet) and for workloads without a measurement: same achieved FLOP/s as the measured
     workload of the same family.

A forward-only image costs ``step seconds / (batch * passes * 3)`` (assumed: a backward pass
costs twice a forward), ``passes`` being the forward+backward passes of one step (DARTS
first order 2, sandwich ``n_random + 2``, others 1). Each job also pays an assumed
``JOB_OVERHEAD_S`` (process start, imports, data loading). The whole DAG's time is the sum
over jobs (one job at a time); with ``k`` jobs in parallel it is at best that sum over ``k``.
"""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nasrepro.errors import ConfigError, NasreproError

__all__ = ["H200_REFERENCE", "Job", "Work", "dag_jobs", "estimate", "format_plan", "job_work"]

REPO = Path(__file__).resolve().parent.parent
#: seconds every job pays besides its work: process start, imports, data loading (assumed)
JOB_OVERHEAD_S = 5.0
#: seconds of the rules without a network (assumed; tables/figures/claims/report ...)
FIXED_S = {"data": 20.0, "attentivenas_prior": 20.0, "attentivenas_predictor": 20.0,
           "fbnetv3_pretrain": 60.0, "fbnetv3_predictor": 60.0, "claims": 30.0,
           "report": 20.0, "leaderboard": 10.0}
FIXED_DEFAULT_S = 5.0
#: target rules without a job of their own (no shell: nothing runs)
NO_JOB = frozenset({"all"})
#: classes of the datasets a profile may name (FBNetV3's search_classes share of the images)
DATASET_CLASSES = {"fashion_mnist": 10, "cifar10": 10, "imagenet": 1000, "digits": 10,
                   "synthetic": 10}
#: official training-set sizes (images) of the datasets a profile may name
DATASET_TRAIN = {"fashion_mnist": 60000, "cifar10": 50000, "imagenet": 1281167,
                 "synthetic": 256}

#: issue 15 / shared/gpu/README.md: one H200 (torch 2.11+cu130), 2026-11-30, cifar10 presets,
#: eager fp32; seconds per step at the profile's batch size
H200_REFERENCE: dict[str, tuple[float, str]] = {
    "darts_search": (0.867, "alone on the GPU"),
    "spos_supernet": (256 / 7968, "7,968 img/s, alone"),
    "spos_retrain": (256 / 8295, "standalone net of a path, 8,295 img/s, alone"),
    "sandwich": (1 / 2.3, "2.3 it/s, best of 1.1-2.3 with 3 other jobs on the GPU"),
    "darts_eval": (1 / 5.2, "5.2 it/s with other jobs on the GPU"),
}
#: a workload without an H200 figure borrows the achieved FLOP/s of this one
FAMILY = {"darts_search_2nd": "darts_search", "snas_search": "darts_search",
          "fbnetv3_candidate": "sandwich"}


@dataclass
class Job:
    """One job of the DAG: its rule and wildcards."""

    rule: str
    wildcards: dict[str, str] = field(default_factory=dict)


@dataclass
class Work:
    """What a job computes.

    Attributes:
        workload: the :data:`nasrepro.speed.WORKLOADS` network it trains (``None``: none).
        steps: training steps of ``workload``.
        forward: forward-only images per workload (evaluation, BN recalibration).
        fixed_s: assumed seconds besides (cheap rules).
        note: how the numbers were derived.
    """

    workload: str | None = None
    steps: int = 0
    forward: dict[str, int] = field(default_factory=dict)
    fixed_s: float = 0.0
    note: str = ""


# --------------------------------------------------------------------------- 1. jobs


def dag_jobs(config_args: Sequence[str], timeout: float = 300.0) -> list[Job]:
    """The jobs of the whole DAG: ``snakemake -n --forceall --config ARGS`` (scratch
    ``results_dir``/``paper_dir``, nothing of the real results touched), parsed."""
    args = [a for a in config_args if not a.startswith(("results_dir=", "paper_dir="))]
    with tempfile.TemporaryDirectory(prefix="nasrepro-plan-") as tmp:
        cmd = [sys.executable, "-m", "snakemake", "-n", "--forceall", "--nolock", "--config",
               *args, f"results_dir={tmp}/results", f"paper_dir={tmp}/paper"]
        try:
            proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True,
                                  timeout=timeout, env=dict(os.environ))
        except FileNotFoundError as exc:  # pragma: no cover - python itself missing
            raise NasreproError(f"cannot run snakemake ({exc})") from exc
    if proc.returncode != 0:
        lines = [ln for ln in (proc.stderr + proc.stdout).splitlines() if ln.strip()]
        last = next((ln for ln in reversed(lines) if "rror" in ln), lines[-1] if lines else "")
        if "No module named snakemake" in proc.stderr:
            last = "snakemake is not installed (pip install -e .[dev])"
        raise NasreproError(f"the dry run of the DAG failed: {last.strip()}")
    return parse_dry_run(proc.stdout)


_RULE = re.compile(r"^(?:local)?rule (\w+):\s*$")


def parse_dry_run(text: str) -> list[Job]:
    """Jobs of ``snakemake -n`` output: each ``rule NAME:`` block and its ``wildcards:``."""
    jobs: list[Job] = []
    for line in text.splitlines():
        m = _RULE.match(line)
        if m:
            jobs.append(Job(m.group(1)))
            continue
        stripped = line.strip()
        if jobs and stripped.startswith("wildcards:"):
            for item in stripped[len("wildcards:"):].split(","):
                if "=" in item:
                    k, v = item.split("=", 1)
                    jobs[-1].wildcards[k.strip()] = v.strip()
    return jobs


# --------------------------------------------------------------------------- 2. work per job


def train_size(config: dict) -> int:
    """Images of the profile's training split (official train set minus ``val_size``, capped
    by ``train_size``), from the config alone."""
    from nasrepro.data.datasets import DIGITS_TEST_SIZE

    data = config["data"]
    sizes = {**DATASET_TRAIN, "digits": 1797 - DIGITS_TEST_SIZE}
    if data["dataset"] not in sizes:
        raise ConfigError(f"plan knows no size for dataset {data['dataset']!r}; known: "
                          f"{', '.join(sorted(sizes))}")
    n = sizes[data["dataset"]] - int(data.get("val_size") or 0)
    if data.get("train_size"):
        n = min(n, int(data["train_size"]))
    return max(n, 1)


def _steps(n_images: int, train_cfg: dict) -> tuple[int, int, int]:
    """(epochs, steps per epoch, evaluations) of a recipe on ``n_images``."""
    from nasrepro.training.config import TrainConfig
    from nasrepro.training.loop import steps_per_epoch_of

    cfg = TrainConfig.from_dict(dict(train_cfg))
    spe = steps_per_epoch_of(n_images, cfg)
    evals = len({e for e in range(1, cfg.epochs + 1) if e % cfg.eval_every == 0} | {cfg.epochs})
    return cfg.epochs, spe, evals


def _val_size(config: dict) -> int:
    return int(config["data"].get("val_size") or 0)


def _attentivenas_search_evals(config: dict) -> int:
    """Candidates one AttentiveNAS Pareto search evaluates."""
    s = config["attentivenas"]["search"]
    return int(s["population"] + s["generations"] * (s["n_crossover"] + s["n_mutation"]))


def job_work(config: dict, job: Job, counts: Counter) -> Work:
    """The work of one job (see the module doc); ``counts``: jobs per rule in the DAG."""
    rule, wc = job.rule, job.wildcards
    n_train = train_size(config)
    if rule == "spos_train_supernet":
        sp = config["spos"]
        epochs, spe, evals = _steps(n_train, sp["supernet_train"])
        s = sp["search"]
        per_eval = 3 * (max(1, s["recalib_batches"]) * s["recalib_batch_size"] + _val_size(config))
        return Work("spos_supernet", epochs * spe, {"spos_supernet": evals * per_eval},
                    note=f"{epochs} epochs x {spe} steps; {evals} evaluations of 3 probe paths")
    if rule == "spos_search":
        from nasrepro.search.evolution import n_evaluations_of

        s = config["spos"]["search"]
        n = n_evaluations_of(s["population"], s["generations"])
        per = s["recalib_batches"] * s["recalib_batch_size"] + _val_size(config)
        return Work(forward={"spos_supernet": n * per},
                    note=f"{n} candidates x (BN recalibration + {_val_size(config)} val images)")
    if rule == "spos_retrain":
        epochs, spe, evals = _steps(n_train, config["spos"]["retrain"])
        return Work("spos_retrain", epochs * spe, {"spos_retrain": evals * _val_size(config)},
                    note=f"{epochs} epochs x {spe} steps")
    if rule == "spos_inherit":
        s = config["spos"]
        per = s["inherit_recalib_batches"] * s["search"]["recalib_batch_size"] + _val_size(config)
        n = counts.get("spos_retrain", 0)
        return Work(forward={"spos_supernet": n * per}, note=f"{n} retrained archs on a supernet")
    if rule == "darts_snas_search":
        return _darts_search_work(config, wc, n_train)
    if rule == "darts_snas_retrain":
        dc = config["darts_snas"]
        epochs, spe, evals = _steps(n_train, dc["retrain"])
        return Work("darts_eval", epochs * spe, {"darts_eval": evals * _val_size(config)},
                    note=f"{epochs} epochs x {spe} steps")
    if rule == "attentivenas_train_supernet":
        from nasrepro.papers.attentivenas.experiment import train_config

        ac = config["attentivenas"]
        training, _, sampler = wc.get("cell", "main/uniform").partition("/")
        epochs, spe, evals = _steps(n_train, train_config(config, training))
        ev = ac["evaluate"]
        per_eval = 2 * (ev["recalib_batches"] * ev["recalib_batch_size"]
                        + int(ev["eval_size"] or _val_size(config)))
        bs = int(ac["supernet_train"]["batch_size"])
        scoring = (ac["attentive"]["k"] * ac["sandwich"]["n_random"] * bs * epochs * spe
                   if sampler in ("bestup", "worstup") else 0)
        note = f"{epochs} epochs x {spe} sandwich steps"
        if scoring:
            note += f"; + k={ac['attentive']['k']} candidates scored per random subnet"
        return Work("sandwich", epochs * spe, {"sandwich": evals * per_eval + scoring},
                    note=note)
    if rule == "attentivenas_search":  # cell main/<sampler>: evaluation + search; short/...
        ac = config["attentivenas"]
        ev = ac["evaluate"]
        per = ev["recalib_batches"] * ev["recalib_batch_size"] + int(ev["eval_size"]
                                                                     or _val_size(config))
        n = int(ac["n_subnets"]) + 2  # the fixed set (+ min and max)
        if wc.get("cell", "main/").startswith("main/"):
            n += _attentivenas_search_evals(config)
        return Work(forward={"sandwich": n * per}, note=f"{n} subnets x (BN recalibration + "
                                                        f"evaluation)")
    if rule == "attentivenas_common":  # every main supernet on the union of the searches
        from nasrepro.papers.attentivenas.grid import common_inputs

        ev = config["attentivenas"]["evaluate"]
        per = ev["recalib_batches"] * ev["recalib_batch_size"] + int(ev["eval_size"]
                                                                     or _val_size(config))
        n_main = len(common_inputs(config)["supernet"])
        n = n_main * _attentivenas_search_evals(config)  # at most: candidates can repeat
        return Work(forward={"sandwich": n_main * n * per},
                    note=f"{n_main} supernets x at most {n} candidates")
    if rule == "fbnetv3_search":
        return _fbnetv3_search_work(config, n_train)
    if rule == "fbnetv3_retrain":
        from nasrepro.papers.fbnetv3.experiment import default_recipe, recipe_space

        tc = recipe_space(config).train_config(default_recipe(config))
        epochs, spe, evals = _steps(n_train, tc)
        return Work("fbnetv3_candidate", epochs * spe,
                    {"fbnetv3_candidate": evals * _val_size(config)},
                    note=f"{epochs} epochs x {spe} steps (default recipe's epochs)")
    return Work(fixed_s=FIXED_S.get(rule, FIXED_DEFAULT_S), note="assumed (no network)")


def _darts_search_work(config: dict, wc: dict[str, str], n_train: int) -> Work:
    from nasrepro.papers.darts_snas.experiment import group_of

    dc = config["darts_snas"]
    group = group_of(config, wc["cell"])
    cfg = dict(dc["search"])
    half = n_train // 2
    if group.method == "snas":
        workload = "snas_search"
        if dc.get("snas_epochs"):
            cfg["epochs"] = int(dc["snas_epochs"])
        whole = dc.get("snas_search_data") == "full"
        images = n_train if whole else half
    else:
        workload = {"darts-1st": "darts_search", "darts-2nd": "darts_search_2nd"}.get(
            group.method, "darts_search")
        images = half
    epochs, spe, evals = _steps(images, cfg)
    eval_size = min(int(dc["eval_size"]), _val_size(config))
    per_eval = (3 + (group.method == "snas")) * eval_size + (
        max(1, dc["recalib_batches"]) * dc["recalib_batch_size"])
    family = "snas_search" if workload == "snas_search" else "darts_search"
    return Work(workload, epochs * spe, {family: evals * per_eval},
                note=f"{group.method}: {epochs} epochs x {spe} steps on {images} images")


def _fbnetv3_search_work(config: dict, n_train: int) -> Work:
    from nasrepro.papers.fbnetv3.experiment import default_recipe, recipe_space

    fb = config["fbnetv3"]
    if fb.get("search_classes"):  # the class subset's share of the training images
        n_classes = DATASET_CLASSES.get(config["data"]["dataset"], fb["search_classes"])
        n_train = n_train * min(1.0, fb["search_classes"] / n_classes)
    images = int(min(n_train, int(fb.get("search_train_size") or n_train)))
    lo, hi = fb["recipe_space"]["epochs"]
    tc = recipe_space(config).train_config({**default_recipe(config),
                                            "epochs": int(round((lo + hi) / 2))})
    epochs, spe, _ = _steps(images, tc)
    n = int(fb["coarse"]["batch_size"]) * int(fb["coarse"]["iterations"]) + int(
        fb["fine"].get("verify_top", 0))
    return Work("fbnetv3_candidate", n * epochs * spe,
                {"fbnetv3_candidate": n * epochs * _val_size(config)},
                note=f"upper bound: {n} candidate trainings x {epochs} epochs (mean of the "
                     f"recipe range; early-stopped ones counted in full) x {spe} steps on "
                     f"{images} images")


# --------------------------------------------------------------------------- 3. step times


def passes(name: str, config: dict) -> int:
    """Forward+backward passes per step of a workload (for the forward-image cost)."""
    if name == "darts_search":
        return 2
    if name == "darts_search_2nd":  # train (dw), val at w', 2 HVP passes, weight step
        return 5
    if name == "sandwich":
        return int(config["attentivenas"]["sandwich"]["n_random"]) + 2
    return 1


@dataclass
class StepTime:
    """Seconds per step of a workload at the profile's batch, and where the number is from."""

    seconds: float
    batch: int
    source: str


def calibrate(config: dict, names: Sequence[str], *, device: str, steps: int = 2,
              warmup: int = 1) -> dict[str, StepTime]:
    """Median step time of each workload on this machine (``nasrepro.speed``)."""
    from nasrepro.speed import build_workload, time_steps

    out = {}
    for name in names:
        w = build_workload(name, config, device=device)
        times = sorted(time_steps(w.run, steps=steps, warmup=warmup, device=device))
        out[name] = StepTime(times[len(times) // 2], w.batch, f"measured here ({device})")
        del w
    return out


def job_overhead() -> float:
    """Seconds a job's process takes to start and import the package and torch (measured
    once here: ``python -c 'import nasrepro.cli, torch, ...'``)."""
    import time

    code = "import torch, nasrepro.cli, nasrepro.experiments.common, nasrepro.training"
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, check=False)
    return time.perf_counter() - start


def _flops_per_image(config: dict, name: str) -> float:
    """FLOPs of one training step per image: ``6 x`` the analytic MACs of the trained
    network(s) (forward 2 FLOPs per MAC, backward twice the forward; the spaces' cost model,
    :mod:`nasrepro.metrics.cost`), mean of 8 seeded random archs where the step samples one;
    counted under :func:`nasrepro.metrics.cost.step_flops` at batch 2 for the DARTS search
    supernets (no analytic cost of a mixed op)."""
    macs = _analytic_macs(config, name)
    if macs is not None:
        return 6.0 * macs
    from nasrepro.metrics.cost import step_flops
    from nasrepro.speed import build_workload

    w = build_workload(name, config, device="cpu", batch=2)
    return step_flops(w.run) / 2


def _mean_macs(space: Any, n: int = 8) -> float:
    import random

    rng = random.Random(0)
    return sum(space.cost(space.sample(rng)).macs for _ in range(n)) / n


def _analytic_macs(config: dict, name: str) -> float | None:
    if name == "spos_supernet":
        from nasrepro.papers.spos.experiment import supernet_space

        return _mean_macs(supernet_space(config, "block"))
    if name == "spos_retrain":
        from nasrepro.papers.spos.experiment import retrain_setup

        return _mean_macs(retrain_setup(config)[0])
    if name == "sandwich":
        from nasrepro.papers.attentivenas.experiment import space_of

        space = space_of(config)
        n_random = int(config["attentivenas"]["sandwich"]["n_random"])
        return (space.cost(space.max_arch()).macs + space.cost(space.min_arch()).macs
                + n_random * _mean_macs(space))
    if name == "darts_eval":
        from nasrepro.papers.darts_snas.experiment import retrain_setup
        from nasrepro.spaces.darts_genotypes import REFERENCE_ARCHS

        return float(retrain_setup(config)[0].cost(REFERENCE_ARCHS["DARTS_V2"]).macs)
    if name == "fbnetv3_candidate":
        from nasrepro.papers.fbnetv3.experiment import arch_space

        return _mean_macs(arch_space(config))
    return None


def from_csv(path: str | Path, names: Sequence[str]) -> dict[str, StepTime]:
    """Eager fp32 step times of a ``bench/gpu.py`` CSV (per image, rescaled to any batch)."""
    out = {}
    with Path(path).open() as fh:
        for row in csv.DictReader(fh):
            if row.get("variant") == "eager fp32" and row.get("step_ms") and (
                    row["workload"] in names):
                out[row["workload"]] = StepTime(float(row["step_ms"]) / 1000,
                                                int(row["batch"]),
                                                f"measured (CSV, {row.get('device_name')})")
    return out


def reference_times(config: dict, names: Sequence[str]) -> dict[str, StepTime]:
    """H200 step times: measured (the cifar10 networks, in any profile that trains the same
    network at the same batch), extrapolated by forward+backward passes (the other DARTS/SNAS
    steps on the same supernet), or by FLOPs (see the module doc)."""
    from nasrepro.config import load_config

    c10 = load_config("cifar10")
    batch_of, c10_batch = _batch_sizes(config), _batch_sizes(c10)
    out = {}
    cache: dict[tuple[str, str], float] = {}

    def fpi(cfg: dict, name: str) -> float:
        key = (cfg["profile"], name)
        if key not in cache:
            cache[key] = _flops_per_image(cfg, name)
        return cache[key]

    for name in names:
        ref = name if name in H200_REFERENCE else FAMILY.get(name)
        if ref is None:
            continue
        sec, how = H200_REFERENCE[ref]
        same_net = _signature(config, name) == _signature(c10, ref)
        if ref == name and same_net:
            out[name] = StepTime(sec, batch_of[name], f"measured H200 ({how})")
        elif ref == "darts_search" and _signature(config, name) == _signature(c10, name):
            ratio = passes(name, config) / passes(ref, c10)
            out[name] = StepTime(sec * ratio, batch_of[name],
                                 f"extrapolated: H200 darts_search x {ratio:g} (passes/step)")
        else:
            rate = fpi(c10, ref) * c10_batch[ref] / sec  # the achieved FLOP/s
            out[name] = StepTime(fpi(config, name) * batch_of[name] / rate, batch_of[name],
                                 f"extrapolated: FLOPs at the achieved FLOP/s of H200 {ref}")
    return out


def _signature(config: dict, name: str) -> str:
    """What determines a workload's network and batch in a config (equal: same step)."""
    import json

    dc, sp, ac = config["darts_snas"], config["spos"], config["attentivenas"]
    parts: dict[str, Any] = {
        "darts_search": [dc["search_space"], dc["search_settings"], dc["search_input_size"],
                         dc["search"]["batch_size"]],
        "darts_eval": [dc["retrain_space"], dc["retrain_settings"], dc["retrain"]["batch_size"],
                       dc["retrain_drop_path"]],
        "spos_supernet": [sp["preset"], sp["supernet_train"]["batch_size"]],
        "spos_retrain": [sp["preset"], sp["retrain"]["batch_size"]],
        "sandwich": [ac["preset"], ac["sandwich"], ac["supernet_train"]["batch_size"]],
        "fbnetv3_candidate": [config["fbnetv3"]["preset"],
                              config["fbnetv3"]["base_train"]["batch_size"]],
    }
    parts["darts_search_2nd"] = parts["snas_search"] = parts["darts_search"]
    return json.dumps([name if name not in FAMILY or FAMILY[name] != "darts_search"
                       else "darts_search", parts[name]], sort_keys=True, default=str)


def _batch_sizes(config: dict) -> dict[str, int]:
    fb = config["fbnetv3"]
    return {"darts_search": config["darts_snas"]["search"]["batch_size"],
            "darts_search_2nd": config["darts_snas"]["search"]["batch_size"],
            "snas_search": config["darts_snas"]["search"]["batch_size"],
            "spos_supernet": config["spos"]["supernet_train"]["batch_size"],
            "spos_retrain": config["spos"]["retrain"]["batch_size"],
            "sandwich": config["attentivenas"]["supernet_train"]["batch_size"],
            "darts_eval": config["darts_snas"]["retrain"]["batch_size"],
            "fbnetv3_candidate": fb["base_train"]["batch_size"]}


# --------------------------------------------------------------------------- the estimate


@dataclass
class RuleEstimate:
    """One rule's jobs and seconds."""

    rule: str
    jobs: int = 0
    seconds: float = 0.0
    steps: int = 0
    sources: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)


def estimate(config: dict, jobs: Sequence[Job], times: dict[str, StepTime],
             overhead_s: float = JOB_OVERHEAD_S) -> list[RuleEstimate]:
    """Seconds per rule (in the DAG's order of first appearance); every job pays
    ``overhead_s`` besides its work."""
    counts = Counter(j.rule for j in jobs)
    rules: dict[str, RuleEstimate] = {}
    for job in jobs:
        work = job_work(config, job, counts)
        est = rules.setdefault(job.rule, RuleEstimate(job.rule))
        est.jobs += 1
        if job.rule in NO_JOB:
            est.sources.add("no job")
            continue
        seconds = overhead_s + work.fixed_s
        if work.fixed_s:
            est.sources.add("assumed")
        if work.workload:
            t = times[work.workload]
            seconds += work.steps * t.seconds
            est.steps += work.steps
            est.sources.add(t.source)
        for name, images in work.forward.items():
            if images:
                t = times[name]
                seconds += images * t.seconds / (t.batch * passes(name, config) * 3)
                est.sources.add(t.source)
        est.seconds += seconds
        if work.note and work.note not in est.notes:
            est.notes.append(work.note)
    return list(rules.values())


def needed_workloads(config: dict, jobs: Sequence[Job]) -> list[str]:
    """The networks whose step time the DAG's jobs need."""
    counts = Counter(j.rule for j in jobs)
    names: dict[str, None] = {}
    for job in jobs:
        work = job_work(config, job, counts)
        if work.workload:
            names[work.workload] = None
        for k in work.forward:
            names[k] = None
    return list(names)


def _hms(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def format_plan(config: dict, rules: Sequence[RuleEstimate], times: dict[str, StepTime], *,
                gpu: bool, parallel: int, overhead: tuple[float, str] = (JOB_OVERHEAD_S,
                                                                          "assumed")) -> str:
    """The printed plan: step times, one line per rule, the whole DAG."""
    lines = [f"# nasrepro plan: profile {config['profile']} (device {config['device']}), "
             f"{sum(r.jobs for r in rules)} jobs"]
    lines.append("# step times (per training step at the profile's batch):")
    for name, t in times.items():
        lines.append(f"#   {name:18s} {t.seconds * 1000:10.1f} ms  batch {t.batch:4d}  "
                     f"{t.source}")
    unit = "GPU-h" if gpu else "wall"
    lines.append(f"{'rule':30s} {'jobs':>5s} {'steps/job':>10s} {'per job':>10s} "
                 f"{'total':>10s}  basis")
    total = 0.0
    for r in rules:
        total += r.seconds
        per = r.seconds / max(r.jobs, 1)
        steps = f"{r.steps // max(r.jobs, 1):d}" if r.steps else "-"
        basis = "; ".join(sorted(r.sources)) or "-"
        lines.append(f"{r.rule:30s} {r.jobs:5d} {steps:>10s} {_hms(per):>10s} "
                     f"{_hms(r.seconds):>10s}  {basis}")
    lines.append(f"{'whole DAG':30s} {sum(r.jobs for r in rules):5d} {'':>10s} {'':>10s} "
                 f"{_hms(total):>10s}  one job at a time")
    if gpu:
        lines.append(f"# whole DAG: {total / 3600:.1f} GPU-hours on one GPU (sum over jobs)")
    elif parallel > 1:
        lines.append(f"# whole DAG with {parallel} jobs in parallel: at best "
                     f"{_hms(total / parallel)} ({unit})")
    lines.append(f"# every job adds {overhead[0]:.1f} s ({overhead[1]}: start, imports); rules "
                 "without a network are assumed constants; evaluation forward passes cost a "
                 "third of a training step per image (assumed)")
    return "\n".join(lines)


def run_plan(config: dict, config_args: Sequence[str], *, device: str | None = None,
             step_times: str | None = None, calibrate_steps: int = 2,
             jobs: Sequence[Job] | None = None) -> str:
    """Plan a profile: jobs from the DAG, step times (calibrated, CSV or H200 reference),
    the estimate; returns the printed text."""
    import torch

    from nasrepro.determinism import conv_kernels
    from nasrepro.speed import threads

    jobs = list(jobs) if jobs is not None else dag_jobs(config_args)
    names = needed_workloads(config, jobs)
    device = str(device or config["device"])
    here = not device.startswith("cuda") or torch.cuda.is_available()
    gpu = device.startswith("cuda")
    times: dict[str, StepTime] = {}
    overhead = (JOB_OVERHEAD_S, "assumed")
    if here and not step_times:
        overhead = (job_overhead(), "measured here")
    if step_times:
        times.update(from_csv(step_times, names))
    missing = [n for n in names if n not in times]
    if missing:
        # the jobs' threads, but never more than this machine's cores (oversubscribed
        # threads are many times slower on a busy machine)
        with threads(min(int(config.get("threads") or 1), os.cpu_count() or 1)), \
                conv_kernels(str(config.get("cpu_isa", "avx2"))):  # the jobs' kernels
            if here:
                times.update(calibrate(config, missing, device=device, steps=calibrate_steps))
            else:
                times.update(reference_times(config, missing))
    unknown = [n for n in names if n not in times]
    if unknown:
        raise NasreproError(f"no step time for {', '.join(unknown)}; pass --step-times with a "
                            f"bench/gpu.py CSV that has them")
    parallel = 1 if gpu else max(1, (os.cpu_count() or 1) // max(1, int(config["threads"])))
    return format_plan(config, estimate(config, jobs, times, overhead[0]), times, gpu=gpu,
                       parallel=parallel, overhead=overhead)

