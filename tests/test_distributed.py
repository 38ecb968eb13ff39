"""Data-parallel training (issue 16): two CPU processes (gloo) train one epoch of a tiny SPOS
supernet with the same global batch as one process: every rank trains the same path at every
step, the loss curve matches the single process within a stated tolerance (the ranks'
BatchNorm sees half batches, as in the official code), only rank 0 writes, and a rerun resumes
from rank 0's checkpoint on every rank."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from nasrepro.training import distributed

#: |loss(2 ranks) - loss(1 process)| per step, relative: the BN statistics of 8 vs 16 images
LOSS_RTOL = 0.05
STEPS, BATCH = 4, 16


class _RecordingSampler:
    """Wraps a sampler and records the path it gives at every step."""

    def __init__(self, sampler) -> None:
        self.sampler, self.space, self.archs = sampler, sampler.space, []

    def __call__(self, model, x, y, ctx):
        archs = self.sampler(model, x, y, ctx)
        self.archs.append(self.space.arch_id(archs[0]))
        return archs

    def state_dict(self):
        return self.sampler.state_dict()

    def load_state_dict(self, state):
        self.sampler.load_state_dict(state)


class _Recording:
    """Wraps a step strategy and records this rank's loss and batch size at every step."""

    def __init__(self, step) -> None:
        self.step, self.records = step, []

    def __call__(self, model, x, y, ctx):
        out = self.step(model, x, y, ctx)
        self.records.append({"loss": float(out["loss"]), "n": int(x.shape[0])})
        return out

    def state_dict(self):
        return self.step.state_dict()

    def load_state_dict(self, state):
        self.step.load_state_dict(state)


def _train(run_dir: Path | None) -> tuple[list[dict], list[dict], str, list[float]]:
    from nasrepro.config import load_config
    from nasrepro.papers.spos.experiment import supernet_space
    from nasrepro.samplers import SinglePathStep, UniformSampler
    from nasrepro.training import TrainConfig, train

    space = supernet_space(load_config("tiny"), "block")
    g = torch.Generator().manual_seed(0)
    c, h, w = space.input_shape
    data = SimpleNamespace(train_x=torch.randn(STEPS * BATCH, c, h, w, generator=g),
                           train_y=torch.randint(0, 10, (STEPS * BATCH,), generator=g),
                           num_classes=10, checksum="synthetic", flip=False)
    torch.manual_seed(0)
    model = space.build_supernet(torch.Generator().manual_seed(0))
    sampler = _RecordingSampler(UniformSampler(space, 0))
    step = _Recording(SinglePathStep(sampler))
    cfg = TrainConfig.from_dict({"epochs": 1, "batch_size": BATCH, "lr": 0.05,
                                 "steps_per_epoch": STEPS, "schedule": "constant"})
    rows = train(model, data, cfg, seed=0, run_dir=run_dir, step=step, progress=False)
    # the trained weights (not the BN buffers, which stay per rank), as one hash
    weights = hashlib.sha256(b"".join(p.detach().numpy().tobytes()
                                      for p in model.parameters())).hexdigest()
    records = [dict(r, arch=a) for r, a in zip(step.records, sampler.archs, strict=True)]
    # evaluations shared out across the ranks, and by this rank alone: one network's accuracy,
    # and a search's subnet evaluations (BN recalibration + accuracy of each path)
    from nasrepro.evaluation import accuracy, evaluate_subnets

    archs = [space.sample(random.Random(k)) for k in range(4)]
    accs = [accuracy(model, data.train_x, data.train_y, batch_size=BATCH, across_ranks=shared,
                     forward=lambda m, x: m(x, archs[0])) for shared in (True, False)]
    subnets = [evaluate_subnets(model, archs, recalib_x=data.train_x,
                                eval_x=data.train_x, eval_y=data.train_y, recalib_batches=2,
                                batch_size=BATCH, across_ranks=shared) for shared in (True, False)]
    return rows, records, weights, {"accuracy": accs, "subnets": subnets}


def _rank(rank: int, world: int, init: str, out: str) -> None:
    dist.init_process_group("gloo", init_method=init, rank=rank, world_size=world)
    torch.set_num_threads(1)
    try:
        run_dir = Path(out) / "run"
        rows, records, weights, accs = _train(run_dir)
        again, _, _, _ = _train(run_dir)  # resumes from rank 0's checkpoint on every rank
        Path(out, f"rank{rank}.json").write_text(json.dumps(
            {"rows": rows, "records": records, "again": again, "accs": accs,
             "weights": weights,
             "ranks": [distributed.current().rank, distributed.current().world_size]}))
    finally:
        dist.destroy_process_group()


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("ddp")
    mp.start_processes(_rank, args=(2, f"file://{out}/pg", str(out)), nprocs=2, join=True,
                       start_method="spawn")
    single_rows, single_records, _, _ = _train(out / "single")
    return {"ranks": [json.loads((out / f"rank{r}.json").read_text()) for r in range(2)],
            "single_rows": single_rows, "single_records": single_records, "out": out}


def _path_of(records: list[dict]) -> list:
    return [r["arch"] for r in records]


def test_every_rank_trains_the_same_path_each_step(runs: dict) -> None:
    r0, r1 = runs["ranks"]
    assert r0["ranks"] == [0, 2] and r1["ranks"] == [1, 2]
    assert len(r0["records"]) == STEPS
    assert _path_of(r0["records"]) == _path_of(r1["records"]) == _path_of(runs["single_records"])
    assert len(set(_path_of(r0["records"]))) > 1  # it samples
    assert all(r["n"] == BATCH // 2 for r in r0["records"])  # a shard of the global batch


def test_averaged_gradients_keep_the_ranks_weights_identical(runs: dict) -> None:
    """Each rank sees other images; only the gradient all-reduce keeps the weights equal."""
    r0, r1 = runs["ranks"]
    assert r0["records"][0]["loss"] != r1["records"][0]["loss"]  # different shards
    assert r0["weights"] == r1["weights"]


def test_loss_curve_matches_one_process(runs: dict) -> None:
    r0, r1 = runs["ranks"]
    single = [r["loss"] for r in runs["single_records"]]
    mean = [(a["loss"] + b["loss"]) / 2 for a, b in zip(r0["records"], r1["records"],
                                                        strict=True)]
    for m, s in zip(mean, single, strict=True):
        assert m == pytest.approx(s, rel=LOSS_RTOL)
    # the logged loss is the mean over ranks, the same on both
    assert r0["rows"][0]["train_loss"] == pytest.approx(r1["rows"][0]["train_loss"], abs=1e-12)
    assert r0["rows"][0]["train_loss"] == pytest.approx(runs["single_rows"][0]["train_loss"],
                                                        rel=LOSS_RTOL)


def test_rank_zero_writes_and_everyone_resumes(runs: dict) -> None:
    run = runs["out"] / "run"
    assert sorted(p.name for p in run.iterdir()) == ["checkpoint.pt", "log.csv"]
    r0, r1 = runs["ranks"]
    assert r0["again"] == r0["rows"] and r1["again"] == r1["rows"]


def test_a_global_batch_must_split_over_the_ranks() -> None:
    from nasrepro.errors import ConfigError

    x, y = torch.zeros(6, 1), torch.zeros(6)
    with pytest.raises(ConfigError, match="multiple of 4"):
        distributed.shard(x, y, distributed.Ranks(1, 4))
    a, b = distributed.shard(x, y, distributed.Ranks(1, 3))
    assert a.shape[0] == b.shape[0] == 2


def test_a_job_with_ranks_2_runs_under_torchrun_and_rank_0_writes(
        tiny_dag: tuple[Path, Path], tmp_path: Path) -> None:
    """`ranks: 2` re-executes a job under torchrun (2 gloo processes on the CPU): a SPOS
    supernet trains with the global batch shared out and rank 0 alone writes: the files of the
    session DAG's 1-rank job, no stray temporary files, provenance says 2 ranks."""
    from nasrepro.config import load_config
    from nasrepro.io import read_json, write_yaml
    from tests.conftest import run_cli

    results, _ = tiny_dag  # its data split
    cfg = tmp_path / "ranks2.yaml"
    write_yaml(cfg, load_config("tiny", {
        "results_dir": str(results.parent), "progress": False, "ranks": 2,
        "spos": {"supernet_train": {"epochs": 1, "steps_per_epoch": 4}}}))
    out = tmp_path / "supernet"
    proc = run_cli("train-supernet", "--config-file", str(cfg), "--paper", "spos",
                   "--cell", "block/uniform", "--seed", "0",
                   "--out", str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    one_rank = results / "spos" / "train_supernet" / "block" / "uniform" / "seed0"
    files = sorted(p.name for p in out.iterdir())
    assert files == sorted(p.name for p in one_rank.iterdir() if p.is_file()), files
    assert read_json(out / "provenance.json")["ranks"] == 2
    assert read_json(one_rank / "provenance.json")["ranks"] == 1
    log = np.genfromtxt(out / "log.csv", delimiter=",", names=True)
    assert log.size == 1 and np.isfinite(log["train_loss"])
