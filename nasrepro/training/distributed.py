"""Data-parallel training over ``torch.distributed`` ranks (issue 16: paper-scale jobs on
several GPUs; the papers' ImageNet runs use 8 GPUs with a global batch of 1024 (SPOS) or more).

The one training loop (:func:`nasrepro.training.train`) runs unchanged on every rank; with a
process group initialised (``torchrun`` sets ``RANK``/``WORLD_SIZE``, then
:func:`init_from_env`), it

* draws the *global* batch (``cfg.batch_size``, the paper's) with the generator every rank
  seeds identically, augments it, and keeps this rank's contiguous shard
  (:func:`shard`; the batch size must divide by the number of ranks);
* lets the step strategy sample its path/subnet from its own seeded stream, which is the same
  on every rank (the SPOS and AttentiveNAS samplers are seeded by the job seed), so every rank
  trains the same path at each step (the tests check it);
* averages the gradients over the ranks after the step's backward (:func:`average_gradients`:
  the all-reduce DistributedDataParallel does; DDP's wrapper itself cannot follow step
  strategies that call the supernet's own methods), before clipping and the optimizer step;
* normalises each rank's half batch with its own BatchNorm statistics, as the official
  SPOS/AttentiveNAS code does (DistributedDataParallel without SyncBN), so a 2-rank run matches
  a 1-rank run up to the BN statistics of half batches; the running statistics are then
  broadcast from rank 0 after every step (:func:`broadcast_buffers`, what DDP's default
  ``broadcast_buffers=True`` does before each forward), so every rank holds rank 0's model;
* seeds torch's global stream per rank from the job seed (dropout and drop-path masks differ
  between ranks; rank 0 uses the seed itself), while the batch order and the samplers' streams
  are shared;
* logs the loss averaged over ranks, and writes the checkpoint and ``log.csv`` on rank 0 only
  (every rank reads the checkpoint on resume, which holds every rank's random streams, so a
  resumed N-rank run continues exactly; a barrier keeps them in step).

A job runs on several ranks when the config's ``ranks`` asks for it (``auto``: every visible
GPU): :func:`launch` re-executes the job's own command line under ``torchrun``
(``torch.distributed.run --standalone``), one process per GPU (or per CPU rank, gloo, for the
tests). Every rank runs the whole job; files are written by rank 0 only
(:func:`nasrepro.io.is_writer`), the subnet evaluations of a search are shared out across
the ranks and gathered (:func:`nasrepro.evaluation.evaluate_subnets`), so every rank continues
the same search, and the evaluation of one network (:func:`nasrepro.evaluation.accuracy`)
shares its batches out and sums the counts.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor

from nasrepro.errors import ConfigError


@dataclass(frozen=True)
class Ranks:
    """This process's place in the group (``world_size`` 1: no group)."""

    rank: int = 0
    world_size: int = 1

    @property
    def is_writer(self) -> bool:
        """Rank 0 writes checkpoints, logs and results."""
        return self.rank == 0


def current() -> Ranks:
    """The ranks of the initialised process group, else a single process."""
    if dist.is_available() and dist.is_initialized():
        return Ranks(dist.get_rank(), dist.get_world_size())
    return Ranks()


def init_from_env(device: str) -> Ranks:
    """Join the process group ``torchrun`` describes (``WORLD_SIZE`` > 1): NCCL on CUDA (this
    rank's ``LOCAL_RANK`` device), gloo on the CPU. Without those variables, a single process."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        cuda = str(device).startswith("cuda")
        if cuda:
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group(backend="nccl" if cuda else "gloo")
    return current()


def shard(x: Tensor, y: Tensor, ranks: Ranks) -> tuple[Tensor, Tensor]:
    """This rank's contiguous share of a global batch."""
    if ranks.world_size == 1:
        return x, y
    n = x.shape[0]
    if n % ranks.world_size:
        raise ConfigError(f"a global batch of {n} does not split over {ranks.world_size} ranks; "
                          f"set batch_size to a multiple of {ranks.world_size}")
    per = n // ranks.world_size
    sl = slice(ranks.rank * per, (ranks.rank + 1) * per)
    return x[sl], y[sl]


def average_gradients(params: Iterable[Tensor], ranks: Ranks) -> None:
    """All-reduce every existing gradient to its mean over the ranks (in one flat buffer)."""
    if ranks.world_size == 1:
        return
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat)
    flat.div_(ranks.world_size)
    offset = 0
    for g in grads:
        g.copy_(flat[offset:offset + g.numel()].view_as(g))
        offset += g.numel()


def average_metrics(metrics: dict[str, float], ranks: Ranks) -> dict[str, float]:
    """Step metrics averaged over the ranks (every rank gets the same values)."""
    if ranks.world_size == 1 or not metrics:
        return metrics
    keys = sorted(metrics)
    t = torch.tensor([float(metrics[k]) for k in keys], dtype=torch.float64)
    dist.all_reduce(t)
    t /= ranks.world_size
    return dict(zip(keys, t.tolist(), strict=True))


def barrier(ranks: Ranks) -> None:
    if ranks.world_size > 1:
        dist.barrier()


def broadcast_buffers(module: torch.nn.Module, ranks: Ranks) -> None:
    """Copy rank 0's buffers (BN running statistics) to every rank."""
    if ranks.world_size == 1:
        return
    for buf in module.buffers():
        dist.broadcast(buf, src=0)


def sum_over_ranks(values: Sequence[float], ranks: Ranks) -> list[float]:
    """``values`` summed element-wise over the ranks (float64)."""
    if ranks.world_size == 1:
        return list(values)
    t = torch.tensor([float(v) for v in values], dtype=torch.float64)
    dist.all_reduce(t)
    return t.tolist()


def average_list(values: Sequence[float], ranks: Ranks) -> list[float]:
    """``values`` averaged element-wise over the ranks (e.g. the minibatch losses that
    AttentiveNAS's BestUp scores its candidates by, each rank on its share of the batch)."""
    if ranks.world_size == 1:
        return list(values)
    t = torch.tensor([float(v) for v in values], dtype=torch.float64)
    dist.all_reduce(t)
    return (t / ranks.world_size).tolist()


def gather_shares(mine: Sequence[Any], n: int, ranks: Ranks) -> list[Any]:
    """The results of items ``rank, rank + W, ...`` of every rank, put back in item order
    (``n`` items in all); every rank gets the whole list."""
    if ranks.world_size == 1:
        return list(mine)
    shares: list[Any] = [None] * ranks.world_size
    dist.all_gather_object(shares, list(mine))
    out: list[Any] = [None] * n
    for r, share in enumerate(shares):
        out[r:n:ranks.world_size] = share
    return out


def ranks_wanted(config: dict) -> int:
    """Processes a job of ``config`` runs on: the config's ``ranks`` (``auto``: the visible CUDA
    GPUs when the device is cuda, else 1)."""
    wanted = config.get("ranks", 1)
    if wanted == "auto":
        cuda = str(config.get("device", "cpu")).startswith("cuda")
        return max(1, torch.cuda.device_count()) if cuda and torch.cuda.is_available() else 1
    wanted = int(wanted)
    if (wanted > 1 and str(config.get("device", "cpu")).startswith("cuda")
            and wanted > torch.cuda.device_count()):
        raise ConfigError(f"ranks={wanted} but this job sees {torch.cuda.device_count()} CUDA "
                          "GPU(s); set ranks: auto (one per visible GPU) or give the job more "
                          "GPUs")
    return wanted


def launch(config: dict, argv: Sequence[str]) -> Ranks:
    """Run this job on :func:`ranks_wanted` ranks: from a plain process, re-execute
    ``python -m nasrepro.cli ARGV`` under ``torchrun`` with that many processes (this call then
    does not return); inside torchrun's processes, join the group (:func:`init_from_env`)."""
    wanted = ranks_wanted(config)
    if "WORLD_SIZE" in os.environ:
        world = int(os.environ["WORLD_SIZE"])
        if world != wanted:
            raise ConfigError(f"this job was started on {world} ranks but the config asks for "
                              f"ranks={wanted}; start it without torchrun (nasrepro launches "
                              "it) or set ranks to the number of processes")
        return init_from_env(config.get("device", "cpu"))
    if wanted == 1:
        return Ranks()
    sys.stdout.flush()
    sys.stderr.flush()
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
           f"--nproc_per_node={wanted}", "-m", "nasrepro.cli", *argv]
    os.execv(sys.executable, cmd)
    raise AssertionError("unreachable")  # pragma: no cover
