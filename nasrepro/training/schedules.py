"""Learning-rate and other per-iteration / per-epoch schedules (pure functions).

* :func:`lr_at`: linear warm-up then cosine (DARTS, AttentiveNAS; PAPERS.md sections 2-3),
  linear decay per iteration (SPOS, section 1: ``lr * (1 - step / total)``) or constant.
* :func:`drop_path_at`: DARTS's linear drop-path ramp ``p * epoch / epochs`` (section 2), or a
  constant stochastic-depth ratio (FBNetV3 recipe, section 4).
* :func:`linear_anneal`: a value annealed linearly over training (SNAS temperature 1.0 -> 0.03).
"""

from __future__ import annotations

import math

from nasrepro.training.config import TrainConfig


def warmup_steps(cfg: TrainConfig, steps_per_epoch: int) -> int:
    """Number of warm-up iterations: ``round(warmup_epochs * steps_per_epoch)``."""
    return int(round(cfg.warmup_epochs * steps_per_epoch))


def lr_at(step: int, total_steps: int, cfg: TrainConfig, steps_per_epoch: int) -> float:
    """Learning rate of iteration ``step`` (0-based) of a run of ``total_steps`` iterations.

    Warm-up: ``lr * (step + 1) / W`` for the first ``W`` iterations (so the first step does not
    waste a zero learning rate and step ``W - 1`` reaches ``lr``). Afterwards, with progress
    ``t = (step - W) / (total_steps - W)`` in [0, 1]:

    * ``cosine``: ``lr_min + (lr - lr_min) * (1 + cos(pi * t)) / 2``
    * ``linear``: ``lr_min + (lr - lr_min) * (1 - t)`` (SPOS's per-iteration decay)
    * ``constant``: ``lr``

    With ``cfg.schedule_unit == "epoch"`` the step is first rounded down to its epoch's first
    iteration, so the rate is constant within an epoch (torch's per-epoch schedulers).

    Args:
        step: iteration index, 0-based.
        total_steps: iterations in the whole run (``epochs * steps_per_epoch``).
        cfg: the training config (lr, lr_min, schedule, schedule_unit, warmup_epochs).
        steps_per_epoch: iterations per epoch.

    Returns:
        The learning rate (a Python float).
    """
    if total_steps <= 0 or steps_per_epoch <= 0:
        raise ValueError(f"total_steps ({total_steps}) and steps_per_epoch must be positive")
    step = max(0, min(step, total_steps))
    if cfg.schedule_unit == "epoch":
        step = (step // steps_per_epoch) * steps_per_epoch
    w = min(warmup_steps(cfg, steps_per_epoch), total_steps)
    if step < w:
        return cfg.lr * (step + 1) / w
    if cfg.schedule == "constant" or total_steps == w:
        return cfg.lr
    t = (step - w) / (total_steps - w)
    if cfg.schedule == "cosine":
        return cfg.lr_min + (cfg.lr - cfg.lr_min) * 0.5 * (1.0 + math.cos(math.pi * t))
    if cfg.schedule == "linear":
        return cfg.lr_min + (cfg.lr - cfg.lr_min) * (1.0 - t)
    raise ValueError(f"unknown schedule {cfg.schedule!r}")


def drop_path_at(epoch: int, cfg: TrainConfig) -> float:
    """Drop-path probability for ``epoch`` (0-based): DARTS's ``p * epoch / epochs`` ramp."""
    if cfg.drop_path_schedule == "constant":
        return cfg.drop_path
    return cfg.drop_path * epoch / cfg.epochs


def linear_anneal(start: float, end: float, epoch: int, epochs: int) -> float:
    """Value linearly annealed from ``start`` (epoch 0) to ``end`` (last epoch, ``epochs - 1``).

    Used for SNAS's Gumbel-softmax temperature (1.0 -> 0.03 over the search).
    """
    if epochs <= 1:
        return end
    t = min(max(epoch / (epochs - 1), 0.0), 1.0)
    return start + (end - start) * t
