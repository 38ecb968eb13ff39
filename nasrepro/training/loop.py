"""THE training loop of nasrepro: one loop for all four papers, with strategies plugged in.

What differs between the papers' training is *what happens in one step*, so a step is a
strategy (:class:`TrainStep`) and everything else is shared:

* SPOS (PAPERS.md section 1): a step samples one path and trains it; recipe = SGD, linear decay
  per iteration, label smoothing, no weight decay on BN/bias.
* DARTS/SNAS (section 2): a bi-level step first updates the architecture on a validation batch
  (:meth:`StepContext.val_batch`, the strategy's own optimizer), then the weights; SNAS is
  single-level; recipe = cosine, grad clip 5, drop path.
* AttentiveNAS (section 3): the sandwich step calls ``backward()`` for several subnets (the max
  net with CE, the others distilled in place from its logits); the gradients accumulate and the
  loop makes one optimizer step; recipe = Nesterov, warm-up + cosine.
* FBNetV3 (section 4): recipes vary optimizer type, lr, weight decay, mixup, stochastic depth
  (``drop_path``) and model EMA, all config values of :class:`TrainConfig`.

Per iteration the loop sets the lr (:func:`lr_at`), augments, applies mixup (targets become class
probabilities), calls the step, stops on a non-finite loss, clips gradients, steps the optimizer
and updates the EMA. Per epoch it evaluates (EMA weights when enabled), appends a log row,
and atomically writes ``checkpoint.pt`` and ``log.csv``; a killed run resumes from there and
ends bit-identical to an uninterrupted one. A recipe may opt into fast paths (channels-last,
bf16 autocast around the step, ``torch.compile`` of the network or its blocks;
:mod:`nasrepro.training.fast`), all off by default.
"""

from __future__ import annotations

import itertools
import math
import random
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.optim import Optimizer
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from tqdm import tqdm

from nasrepro.errors import TrainingError
from nasrepro.training.checkpoint import (
    CHECKPOINT_NAME,
    LOG_NAME,
    as_tuples,
    capture_rng_state,
    load_checkpoint,
    restore_rng_state,
    save_checkpoint,
    write_log_csv,
)
from nasrepro.training.config import TrainConfig
from nasrepro.training.schedules import drop_path_at, lr_at

EvalFn = Callable[[nn.Module], dict[str, Any]]


# --------------------------------------------------------------------------- optimizer


def _unique_trainable(params: Iterable[Tensor]) -> list[Tensor]:
    seen: set[int] = set()
    out = []
    for p in params:
        if p.requires_grad and id(p) not in seen:
            seen.add(id(p))
            out.append(p)
    return out


def build_optimizer(model_or_params: nn.Module | Iterable[Tensor], cfg: TrainConfig) -> Optimizer:
    """The optimizer of ``cfg`` with two parameter groups: with and without weight decay.

    Parameters with ``ndim <= 1`` (BN affine weights/biases, all biases) get no weight decay when
    ``cfg.no_wd_bn_bias`` (SPOS, AttentiveNAS). Shared parameters are counted once, frozen ones
    (``requires_grad=False``) are skipped. Group learning rates are set by the loop every step.

    Args:
        model_or_params: a module (its ``parameters()``) or an iterable of tensors.
        cfg: optimizer, lr, momentum, nesterov, betas, eps, weight_decay, no_wd_bn_bias.

    Returns:
        A ``torch.optim`` optimizer (``SGD``, ``Adam``, ``AdamW`` or ``RMSprop``).
    """
    params = model_or_params.parameters() if isinstance(model_or_params, nn.Module) else (
        model_or_params
    )
    params = _unique_trainable(params)
    if not params:
        raise TrainingError("the model has no trainable parameters; check requires_grad")
    if cfg.no_wd_bn_bias:
        decay = [p for p in params if p.ndim > 1]
        no_decay = [p for p in params if p.ndim <= 1]
    else:
        decay, no_decay = params, []
    groups = [{"params": decay, "weight_decay": cfg.weight_decay}]
    groups.append({"params": no_decay, "weight_decay": 0.0})
    groups = [g for g in groups if g["params"]]
    extra: dict[str, Any] = {} if cfg.eps is None else {"eps": cfg.eps}
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(
            groups, lr=cfg.lr, momentum=cfg.momentum, nesterov=cfg.nesterov and cfg.momentum > 0
        )
    if cfg.optimizer == "adam":
        return torch.optim.Adam(groups, lr=cfg.lr, betas=cfg.betas, **extra)
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(groups, lr=cfg.lr, betas=cfg.betas, **extra)
    if cfg.optimizer == "rmsprop":
        # alpha 0.9: the EfficientNet/FBNet-style RMSprop decay
        return torch.optim.RMSprop(groups, lr=cfg.lr, alpha=0.9, momentum=cfg.momentum, **extra)
    raise TrainingError(f"unknown optimizer {cfg.optimizer!r}; use sgd, adam, adamw or rmsprop")


# --------------------------------------------------------------------------- strategies


def draw_batch(x: Tensor, y: Tensor, batch_size: int, generator: torch.Generator
               ) -> tuple[Tensor, Tensor]:
    """A random batch (without replacement) of ``(x, y)`` drawn with ``generator`` (CPU); ``x``
    may be a streamed split (:mod:`nasrepro.data.stream`)."""
    from nasrepro.data.stream import take

    n = x.shape[0]
    idx = torch.randperm(n, generator=generator)[: min(batch_size, n)]
    return take(x, idx), y[idx.to(y.device)]


@dataclass
class StepContext:
    """What a step strategy may use besides the model and the batch.

    Attributes:
        criterion: ``CrossEntropyLoss(label_smoothing=cfg.label_smoothing)``; it accepts both class
            indices and (with mixup) class-probability targets.
        epoch: 0-based epoch.
        step: 0-based global iteration.
        total_steps: iterations in the whole run.
        steps_per_epoch: iterations per epoch.
        optimizer: the loop's weight optimizer (a bi-level strategy zeroes its gradients after its
            architecture step).
        lr: learning rate of this iteration (DARTS 2nd order uses it as xi).
        data: the data bundle (``train_x``, ``val_x``, ...).
        generator: the loop's CPU ``torch.Generator`` (checkpointed; use it for every draw).
        cfg: the training config.
        mixup: ``(lam, perm)`` when mixup was applied to this batch (``y`` is then soft), else None.
    """

    criterion: nn.Module
    epoch: int
    step: int
    total_steps: int
    steps_per_epoch: int
    optimizer: Optimizer
    lr: float
    data: Any
    generator: torch.Generator
    cfg: TrainConfig
    mixup: tuple[float, Tensor] | None = None

    def val_batch(self, batch_size: int | None = None) -> tuple[Tensor, Tensor]:
        """A random validation batch (DARTS's architecture step), drawn with the loop's RNG."""
        return draw_batch(self.data.val_x, self.data.val_y, batch_size or self.cfg.batch_size,
                          self.generator)


@runtime_checkable
class TrainStep(Protocol):
    """A training strategy: compute the loss(es) of one batch and call ``backward()``.

    The loop zeroes the gradients of its optimizer before the first step and after every
    optimizer step; a strategy may call ``backward()`` several times (gradient accumulation,
    AttentiveNAS sandwich) and must not call ``ctx.optimizer.step()`` itself. It returns metrics
    as floats: ``"loss"`` (required, checked for NaN/inf) and optionally ``"acc"`` and others
    (averaged over the epoch into ``train_<name>`` log columns).

    Optional methods, used when present:

    * ``state_dict()`` / ``load_state_dict(d)``: the strategy's own state (architecture
      parameters, their optimizer, samplers' RNGs) saved in every checkpoint; tensors and plain
      containers only.
    * ``on_epoch_start(epoch, ctx)``: e.g. SNAS's temperature annealing.
    * ``on_epoch_end(epoch, ctx) -> dict | None``: extra per-epoch log columns (e.g. entropy).
    * ``parameters_to_optimize(model)``: the weights the loop's optimizer trains, when not all of
      ``model.parameters()`` (DARTS keeps architecture parameters out of it).
    """

    def __call__(self, model: nn.Module, x: Tensor, y: Tensor, ctx: StepContext
                 ) -> dict[str, float]: ...


def split_logits(out: Any) -> tuple[Tensor, Tensor | None]:
    """``(logits, aux_logits)`` from a model output: a tensor or a ``(logits, aux)`` pair."""
    if isinstance(out, tuple | list):
        return out[0], (out[1] if len(out) > 1 else None)
    return out, None


def batch_accuracy(logits: Tensor, y: Tensor) -> float:
    """Top-1 accuracy of a batch; ``y`` may be class indices or (mixup) class probabilities."""
    target = y.argmax(dim=1) if y.ndim == 2 else y
    return float((logits.argmax(dim=1) == target).float().mean())


class StandardStep:
    """Plain supervised step: ``loss = criterion(model(x), y)``; ``loss.backward()``.

    A model that returns ``(logits, aux_logits)`` in training (DARTS auxiliary head) adds
    ``aux_weight * criterion(aux_logits, y)``.

    Args:
        aux_weight: weight of the auxiliary-head loss (DARTS: 0.4).
        forward: ``forward(model, x) -> output``; default ``model(x)``.
    """

    def __init__(self, aux_weight: float = 0.4,
                 forward: Callable[[nn.Module, Tensor], Any] | None = None) -> None:
        self.aux_weight = aux_weight
        self.forward = forward

    def __call__(self, model: nn.Module, x: Tensor, y: Tensor, ctx: StepContext
                 ) -> dict[str, float]:
        out = self.forward(model, x) if self.forward is not None else model(x)
        logits, aux = split_logits(out)
        loss = ctx.criterion(logits, y)
        if aux is not None and self.aux_weight:
            loss = loss + self.aux_weight * ctx.criterion(aux, y)
        loss.backward()
        return {"loss": float(loss.detach()), "acc": batch_accuracy(logits.detach(), y)}


# --------------------------------------------------------------------------- helpers


def _batches(data: Any, cfg: TrainConfig, generator: torch.Generator, steps: int,
             ranks: Any) -> Iterator[tuple[Tensor, Tensor]]:
    """One epoch's batches: shuffled tensors, or a streamed split's decoded images (then this
    rank's share of each global batch already, :func:`nasrepro.data.stream.train_batches`)."""
    from nasrepro.data import iterate_batches
    from nasrepro.data.stream import is_streamed, train_batches

    n = data.train_x.shape[0]
    if is_streamed(data.train_x):
        it = train_batches(data.train_x, data.train_y, cfg.batch_size, generator=generator,
                           drop_last=n >= cfg.batch_size, rank=ranks.rank,
                           world_size=ranks.world_size)
    else:
        it = iterate_batches(data.train_x, data.train_y, cfg.batch_size, shuffle=True,
                             generator=generator, drop_last=n >= cfg.batch_size)
    return itertools.islice(it, steps)


def steps_per_epoch_of(n_train: int, cfg: TrainConfig) -> int:
    """Iterations per epoch: full batches of the train split (at least 1), capped by the config."""
    full = max(1, n_train // cfg.batch_size)
    return min(full, cfg.steps_per_epoch) if cfg.steps_per_epoch else full


AugmentFn = Callable[[Tensor, torch.Generator], Tensor]


def _build_augment(data: Any, cfg: TrainConfig) -> AugmentFn | None:
    from nasrepro.data.stream import is_streamed

    if is_streamed(data.train_x):  # augmented by the loader (nasrepro.data.imagenet)
        return None
    flip = cfg.flip and bool(getattr(data, "flip", True))
    if not (cfg.crop_padding or flip or cfg.cutout):
        return None
    from nasrepro.data import Augment

    return Augment(crop_padding=cfg.crop_padding, flip=flip, cutout=cfg.cutout)


def _num_classes(data: Any) -> int:
    n = getattr(data, "num_classes", None)
    return int(n) if n is not None else int(data.train_y.max()) + 1


def _mixup(x: Tensor, y: Tensor, num_classes: int, alpha: float, rng: random.Random,
           generator: torch.Generator) -> tuple[Tensor, Tensor, tuple[float, Tensor]]:
    lam = rng.betavariate(alpha, alpha)
    perm = torch.randperm(x.shape[0], generator=generator).to(x.device)
    onehot = F.one_hot(y, num_classes).to(x.dtype)
    x = lam * x + (1.0 - lam) * x[perm]
    y_soft = lam * onehot + (1.0 - lam) * onehot[perm]
    return x, y_soft, (lam, perm)


def _set_drop_path(model: nn.Module, p: float) -> None:
    for m in model.modules():
        if hasattr(m, "drop_path_prob"):
            m.drop_path_prob = p


def _identity(cfg: TrainConfig, seed: int, data: Any, extra: dict | None) -> dict[str, Any]:
    return {"train": cfg.identity_dict(), "seed": seed,
            "data_checksum": getattr(data, "checksum", None), "extra": extra or {}}


def _diff_keys(a: dict, b: dict, prefix: str = "") -> list[str]:
    keys = []
    for k in sorted(set(a) | set(b), key=str):
        va, vb = a.get(k), b.get(k)
        if isinstance(va, dict) and isinstance(vb, dict):
            keys += _diff_keys(va, vb, f"{prefix}{k}.")
        elif va != vb and not (isinstance(va, list | tuple) and isinstance(vb, list | tuple)
                               and list(va) == list(vb)):
            keys.append(f"{prefix}{k}")
    return keys


# --------------------------------------------------------------------------- the loop


def train(
    model: nn.Module,
    data: Any,
    cfg: TrainConfig,
    *,
    seed: int,
    run_dir: str | Path | None,
    step: TrainStep | None = None,
    eval_fn: EvalFn | None = None,
    extra_params: list[Tensor] | None = None,
    augment: Callable[[Tensor, torch.Generator], Tensor] | None = None,
    extra_config: dict[str, Any] | None = None,
    progress: bool = True,
    desc: str = "train",
    stop_epoch: int | None = None,
) -> list[dict[str, Any]]:
    """Train ``model`` on ``data.train_x/train_y`` with ``cfg``, resuming from ``run_dir``.

    Args:
        model: the network (already on the data's device, initialised by the caller).
        data: a ``DataBundle`` (or any object with ``train_x``, ``train_y``, optionally
            ``val_x``, ``val_y``, ``num_classes``, ``checksum``, ``flip``); the ``x`` splits
            may be tensors or streamed splits (:mod:`nasrepro.data.stream`, ImageNet).
        cfg: the training config.
        seed: seeds torch, python ``random``, numpy and the loop's generator (shuffling,
            augmentation, mixup, strategies' draws).
        run_dir: where ``checkpoint.pt`` and ``log.csv`` go; ``None`` writes nothing.
        step: the step strategy (default :class:`StandardStep`).
        eval_fn: ``eval_fn(model) -> metrics`` called every ``cfg.eval_every`` epochs and at the
            last one, with the EMA model when ``cfg.ema_decay`` is set.
        extra_params: tensors optimised by the loop's optimizer besides the model's parameters.
        augment: ``augment(x, generator) -> x``; default built from the config's crop/flip/cutout
            with ``nasrepro.data.Augment``.
        extra_config: more identity (e.g. method settings) stored in the checkpoint; a resume with
            different values is refused like a changed ``cfg``.
        progress: show a tqdm bar on stderr.
        desc: the bar's label.
        stop_epoch: stop after this many epochs (1-based count) although the schedules (lr,
            drop path) run over ``cfg.epochs``: FBNetV3's early stopping of a candidate's
            training (PAPERS.md section 4). ``None``: train all ``cfg.epochs``. Not part of the
            checkpoint identity, so a truncated run can later be resumed to the full length.

    Returns:
        The log rows, one per epoch: ``epoch`` (1-based), ``lr`` (of the epoch's last
        iteration), ``train_loss``, ``train_acc`` and any other ``train_*`` step metrics,
        the eval metrics, and the strategy's ``on_epoch_end`` metrics.

    Raises:
        TrainingError: a NaN/inf loss (nothing is written for that epoch), or a checkpoint in
            ``run_dir`` written with another config.
    """
    from nasrepro.training import distributed, fast

    step = step if step is not None else StandardStep()
    run_dir = Path(run_dir) if run_dir is not None else None
    ckpt_path = run_dir / CHECKPOINT_NAME if run_dir is not None else None
    ranks = distributed.current()  # data parallel over a process group (module docstring)

    # torch's global stream (dropout, drop-path masks) differs per rank, derived from the job
    # seed (rank 0: the seed itself); the loop's generator and the samplers' streams are the
    # same on every rank (the same batch order and path)
    torch.manual_seed(seed + 1_000_003 * ranks.rank)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    generator = torch.Generator().manual_seed(seed)
    mix_rng = random.Random(f"mixup-{seed}")

    from nasrepro.data.stream import is_streamed

    streamed = is_streamed(data.train_x)
    n_train = data.train_x.shape[0]
    if n_train == 0:
        raise TrainingError("the training split is empty; check the dataset and its split sizes")
    spe = steps_per_epoch_of(n_train, cfg)
    total = cfg.epochs * spe
    if stop_epoch is not None and stop_epoch < 1:
        raise TrainingError(f"stop_epoch must be >= 1 (got {stop_epoch}); pass None to train "
                            "every epoch")
    end_epoch = cfg.epochs if stop_epoch is None else min(cfg.epochs, int(stop_epoch))

    fast.prepare(model, channels_last=cfg.channels_last, compile=cfg.compile,
                 compile_mode=cfg.compile_mode)  # opt-in fast paths; no-op by default
    if hasattr(step, "parameters_to_optimize"):
        params = list(step.parameters_to_optimize(model))
    else:
        params = list(model.parameters())
    extra_params = list(extra_params or [])
    optimizer = build_optimizer(params + extra_params, cfg)
    opt_params = [p for g in optimizer.param_groups for p in g["params"]]
    ema = (AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(cfg.ema_decay), use_buffers=True)
           if cfg.ema_decay is not None else None)
    criterion = nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing)
    if augment is None:
        augment = _build_augment(data, cfg)
    num_classes = _num_classes(data) if cfg.mixup_alpha > 0 else 0

    identity = _identity(cfg, seed, data, extra_config)
    rows: list[dict[str, Any]] = []
    start_epoch = 0
    if ckpt_path is not None and ckpt_path.exists():
        ck = load_checkpoint(ckpt_path, map_location="cpu")
        diff = _diff_keys(ck.get("identity", {}), identity)
        if diff:
            raise TrainingError(
                f"checkpoint {ckpt_path} was written with a different config "
                f"({', '.join(diff)}); delete {run_dir} to start over, or restore the old config"
            )
        model.load_state_dict(ck["model"])
        optimizer.load_state_dict(ck["optimizer"])
        with torch.no_grad():
            for p, v in zip(extra_params, ck["extra_params"], strict=True):
                p.copy_(v)
        if ema is not None:
            ema.load_state_dict(ck["ema"])
        if hasattr(step, "load_state_dict") and ck.get("step") is not None:
            step.load_state_dict(ck["step"])
        generator.set_state(ck["generator"])
        mix_rng.setstate(as_tuples(ck["mix_rng"]))
        per_rank = ck.get("rank_rng") or [ck["rng"]]
        if len(per_rank) != ranks.world_size:
            raise TrainingError(f"checkpoint {ckpt_path} was written by {len(per_rank)} rank(s), "
                                f"this run has {ranks.world_size}; resume with the same ranks "
                                f"or delete {run_dir} to start over")
        restore_rng_state(per_rank[ranks.rank])
        rows = list(ck["rows"])
        start_epoch = int(ck["epoch"]) + 1
        if ranks.is_writer:  # in case the kill came between the two writes
            write_log_csv(run_dir / LOG_NAME, rows)

    bar = tqdm(total=end_epoch * spe, initial=min(start_epoch, end_epoch) * spe, desc=desc,
               disable=not (progress and ranks.is_writer),
               mininterval=1.0, file=sys.stderr, dynamic_ncols=True, leave=False)
    try:
        optimizer.zero_grad(set_to_none=True)
        for epoch in range(start_epoch, end_epoch):
            model.train()
            if cfg.drop_path > 0:
                _set_drop_path(model, drop_path_at(epoch, cfg))
                if ema is not None:
                    _set_drop_path(ema.module, drop_path_at(epoch, cfg))
            ctx = StepContext(criterion=criterion, epoch=epoch, step=epoch * spe, total_steps=total,
                              steps_per_epoch=spe, optimizer=optimizer,
                              lr=lr_at(epoch * spe, total, cfg, spe), data=data,
                              generator=generator, cfg=cfg)
            if hasattr(step, "on_epoch_start"):
                step.on_epoch_start(epoch, ctx)
            sums: dict[str, float] = {}
            n_steps = 0
            lr = ctx.lr
            for i, (xb, yb) in enumerate(_batches(data, cfg, generator, spe, ranks)):
                global_step = epoch * spe + i
                lr = lr_at(global_step, total, cfg, spe)
                for g in optimizer.param_groups:
                    g["lr"] = lr
                if augment is not None:
                    xb = augment(xb, generator)
                mix = None
                if cfg.mixup_alpha > 0:
                    xb, yb, mix = _mixup(xb, yb, num_classes, cfg.mixup_alpha, mix_rng, generator)
                if not streamed:  # a streamed split decodes only this rank's share
                    xb, yb = distributed.shard(xb, yb, ranks)
                ctx.step, ctx.lr, ctx.mixup = global_step, lr, mix
                xb = fast.memory_format(xb, cfg.channels_last)
                with fast.autocast(xb.device.type, cfg.amp):
                    metrics = step(model, xb, yb, ctx)
                if "loss" not in metrics:
                    raise TrainingError(
                        f"step strategy {type(step).__name__} returned no 'loss' metric; "
                        "return {'loss': float, ...} from its __call__"
                    )
                distributed.average_gradients(opt_params, ranks)
                metrics = distributed.average_metrics(
                    {k: float(v) for k, v in metrics.items()}, ranks)
                loss = float(metrics["loss"])
                if not math.isfinite(loss):
                    raise TrainingError(
                        f"loss is {loss} at epoch {epoch + 1} step {i}; lower the learning rate "
                        f"(lr, now {lr:.4g}) or set grad_clip"
                    )
                if cfg.grad_clip is not None:
                    torch.nn.utils.clip_grad_norm_(opt_params, cfg.grad_clip)
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
                distributed.broadcast_buffers(model, ranks)  # rank 0's BN statistics
                if ema is not None:
                    ema.update_parameters(model)
                for k, v in metrics.items():
                    sums[k] = sums.get(k, 0.0) + float(v)
                n_steps += 1
                bar.update(1)
                bar.set_postfix(loss=f"{loss:.3f}", refresh=False)

            row: dict[str, Any] = {"epoch": epoch + 1, "lr": lr}
            row["train_loss"] = sums.pop("loss") / n_steps
            row["train_acc"] = sums.pop("acc") / n_steps if "acc" in sums else None
            for k, v in sums.items():
                row[f"train_{k}"] = v / n_steps
            if eval_fn is not None and ((epoch + 1) % cfg.eval_every == 0
                                        or epoch + 1 == end_epoch):
                row.update(eval_fn(ema.module if ema is not None else model))
            if hasattr(step, "on_epoch_end"):
                row.update(step.on_epoch_end(epoch, ctx) or {})
            rows.append(row)

            rank_rng = distributed.gather_shares([capture_rng_state()], ranks.world_size, ranks)
            if run_dir is not None and ranks.is_writer:
                save_checkpoint(ckpt_path, {
                    "identity": identity,
                    "epoch": epoch,
                    "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "extra_params": [p.detach().clone() for p in extra_params],
                    "ema": ema.state_dict() if ema is not None else None,
                    "step": step.state_dict() if hasattr(step, "state_dict") else None,
                    "generator": generator.get_state(),
                    "mix_rng": mix_rng.getstate(),
                    "rng": rank_rng[0],
                    "rank_rng": rank_rng,  # every rank's streams: an exact resume on N ranks
                    "rows": rows,
                })
                write_log_csv(run_dir / LOG_NAME, rows)
            distributed.barrier(ranks)  # no rank runs ahead of rank 0's checkpoint
    finally:
        bar.close()
    return rows
