"""Speed workloads: one training step of each network a profile trains, timed on a device.

Issue 15 (paper scale on one GPU). Each workload is the *pipeline's own* step on the profile's
network and batch size, built from the same library parts the DAG uses (spaces, supernets,
registered step strategies and samplers, the recipe's optimizer), run on random inputs of the
preset's shape (speed does not depend on pixel values):

=================== ====================================================================
``darts_search``    DARTS first-order search step (architecture step on a validation
                    batch, then the weights): ``darts_snas.search_space``, ``search``
``darts_search_2nd`` the same, second order (unrolled step + Hessian-vector product)
``snas_search``     SNAS search step (Gumbel sample, penalty, drop path)
``spos_supernet``   SPOS single-path supernet step (uniform path), ``spos.supernet_train``
``spos_retrain``    SPOS standalone network of a random arch, ``spos.retrain``
``sandwich``        AttentiveNAS sandwich step (max + random + min, in-place distillation)
``darts_eval``      DARTS evaluation network (DARTS_V2, auxiliary head, drop path),
                    ``darts_snas.retrain``
``fbnetv3_candidate`` FBNetV3 candidate network with the default recipe, ``base_train``
=================== ====================================================================

A step is what one iteration of :func:`nasrepro.training.train` does after batching: the
strategy's call (its backward passes), gradient clipping, the optimizer step. Optional fast
paths (:class:`Variant`), never defaults of the pipeline: ``fused`` (DARTS/SNAS search cell,
:mod:`nasrepro.supernets.darts_fused`) and the recipe keys the training loop applies through
:mod:`nasrepro.training.fast` (``channels_last``, ``amp: bf16``, ``compile: network|blocks``,
``compile_mode``), applied here by the same functions. :func:`time_steps` times steps after a
warm-up (CUDA events on a GPU, ``time.perf_counter`` on CPU);
:func:`nasrepro.metrics.cost.step_flops` counts a step's FLOPs for the compute floor. Used by
``bench/gpu.py`` and ``nasrepro plan``.
"""

from __future__ import annotations

import contextlib
import copy
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from types import SimpleNamespace
from typing import Any

import torch
from torch import Tensor, nn

from nasrepro.training import fast

__all__ = [
    "WORKLOADS",
    "Variant",
    "Workload",
    "build_workload",
    "matmul_rate",
    "sync",
    "time_steps",
]


@dataclass(frozen=True)
class Variant:
    """A way to run a workload: eager fp32 (the pipeline's) or a fast path.

    Attributes:
        name: label in tables.
        fused: DARTS/SNAS search supernet with fused mixed ops (search workloads only); the
            profile key ``darts_snas.search_settings.fused``.
        channels_last, amp, compile, compile_mode: the recipe keys of the same names
            (:class:`~nasrepro.training.TrainConfig`, :mod:`nasrepro.training.fast`); a
            compiled variant's first steps compile (warm up enough).
    """

    name: str = "eager fp32"
    fused: bool = False
    channels_last: bool = False
    amp: str = "none"
    compile: str = "none"
    compile_mode: str = "default"

    def recipe_keys(self) -> dict[str, Any]:
        """The variant as recipe keys (what a profile sets to train this way)."""
        return {"channels_last": self.channels_last, "amp": self.amp, "compile": self.compile,
                "compile_mode": self.compile_mode}


EAGER = Variant()


@dataclass
class Workload:
    """One ready-to-run training step.

    Attributes:
        name: key of :data:`WORKLOADS`.
        what: human description (network, preset, batch).
        batch: training images per step (img/s = ``batch / step seconds``).
        device: where it runs.
        run: one step.
        model: the network (possibly compiled).
        variant: the fast path.
    """

    name: str
    what: str
    batch: int
    device: str
    run: Callable[[], None]
    model: nn.Module
    variant: Variant


def sync(device: str) -> None:
    """Wait for the device's queued work (no-op on CPU)."""
    if str(device).startswith("cuda"):
        torch.cuda.synchronize(device)


def time_steps(run: Callable[[], None], *, steps: int, warmup: int, device: str) -> list[float]:
    """Seconds of each of ``steps`` calls of ``run`` after ``warmup`` untimed calls.

    On CUDA each step is bracketed by CUDA events on the current stream (then synchronised);
    on CPU by ``time.perf_counter``.
    """
    for _ in range(warmup):
        run()
    sync(device)
    if str(device).startswith("cuda"):
        pairs = []
        for _ in range(steps):
            start, end = (torch.cuda.Event(enable_timing=True),
                          torch.cuda.Event(enable_timing=True))
            start.record()
            run()
            end.record()
            pairs.append((start, end))
        sync(device)
        return [s.elapsed_time(e) / 1000.0 for s, e in pairs]
    out = []
    for _ in range(steps):
        t0 = time.perf_counter()
        run()
        out.append(time.perf_counter() - t0)
    return out


def matmul_rate(device: str, dtype: torch.dtype = torch.float32, n: int | None = None,
                repeat: int = 5) -> float:
    """Measured FLOP/s of a square matmul on ``device`` (the compute-floor reference).

    ``n`` defaults to 4096 on CUDA, 512 on CPU. With TF32 allowed (``torch.backends``
    settings) a CUDA fp32 matmul runs at TF32 rate, as convolutions do by default.
    """
    n = n or (4096 if str(device).startswith("cuda") else 512)
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    times = time_steps(lambda: torch.mm(a, b), steps=repeat, warmup=2, device=device)
    return 2.0 * n ** 3 / sorted(times)[len(times) // 2]


# --------------------------------------------------------------------------- building blocks


def _batch(shape: tuple[int, ...], n: int, classes: int, seed: int, device: str
           ) -> tuple[Tensor, Tensor]:
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(n, *shape, generator=g).to(device),
            torch.randint(0, classes, (n,), generator=g).to(device))


@dataclass
class _Parts:
    what: str
    model: nn.Module
    step: Any
    train_cfg: dict
    input_shape: tuple[int, ...]
    classes: int
    drop_path: float = 0.0


def assemble(name: str, parts: _Parts, device: str, variant: Variant, batch: int | None,
              seed: int) -> Workload:
    """The loop's iteration body around a strategy: step, clip, optimizer step, zero grads."""
    from nasrepro.training.config import TrainConfig
    from nasrepro.training.loop import StandardStep, StepContext, build_optimizer

    tc = {**parts.train_cfg, **variant.recipe_keys()}
    if batch is not None:
        tc["batch_size"] = int(batch)
    cfg = TrainConfig.from_dict(tc)
    model = parts.model.to(device)
    for m in model.modules():
        if hasattr(m, "drop_path_prob"):
            m.drop_path_prob = parts.drop_path
    fast.prepare(model, channels_last=cfg.channels_last, compile=cfg.compile,
                 compile_mode=cfg.compile_mode)  # as the training loop does
    step = parts.step if parts.step is not None else StandardStep()
    params = (step.parameters_to_optimize(model) if hasattr(step, "parameters_to_optimize")
              else model.parameters())
    opt = build_optimizer(params, cfg)
    opt_params = [p for g in opt.param_groups for p in g["params"]]
    if hasattr(step, "arch"):
        step.arch.to(device)
    bs = cfg.batch_size
    x, y = _batch(parts.input_shape, bs, parts.classes, seed, device)
    vx, vy = _batch(parts.input_shape, 2 * bs, parts.classes, seed + 1, device)
    x = fast.memory_format(x, cfg.channels_last)
    ctx = StepContext(criterion=nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing),
                      epoch=0, step=0, total_steps=1000, steps_per_epoch=1000, optimizer=opt,
                      lr=cfg.lr, data=SimpleNamespace(val_x=vx, val_y=vy),
                      generator=torch.Generator().manual_seed(seed), cfg=cfg)
    model.train()

    device_type = torch.device(device).type

    def run() -> None:
        with fast.autocast(device_type, cfg.amp):
            step(model, x, y, ctx)
        if cfg.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(opt_params, cfg.grad_clip)
        opt.step()
        opt.zero_grad(set_to_none=True)

    return Workload(name, f"{parts.what}, batch {bs}", bs, device, run, model, variant)


# --------------------------------------------------------------------------- the workloads


def darts_search_parts(config: dict, method: str, variant: Variant = EAGER,
                       seed: int = 0) -> _Parts:
    """Model and architecture step of a registered relaxation on the profile's search space
    (the parts :func:`assemble` turns into one training iteration)."""
    from nasrepro.papers.darts_snas.experiment import search_space
    from nasrepro.registry import get_method, method_settings
    from nasrepro.samplers.darts_search import snas_cost_table

    if variant.fused:  # what a profile gets with darts_snas.search_settings: {fused: true}
        config = copy.deepcopy(config)
        config["darts_snas"]["search_settings"] = {**config["darts_snas"]["search_settings"],
                                                   "fused": True}
    dc = config["darts_snas"]
    space = search_space(config)
    epochs = int(dc.get("snas_epochs") or dc["search"]["epochs"]) if method == "snas" else int(
        dc["search"]["epochs"])
    lam = max(dc["penalty_lambdas"].values()) if method == "snas" else 0.0
    entry = get_method("relaxation", method, paper="darts_snas")
    settings = method_settings(config, "darts_snas", "relaxation", method)
    step = entry.factory(space, seed=seed, settings=settings, epochs=epochs,
                         edge_costs=snas_cost_table(space), penalty_lambda=lam)
    model = space.build_supernet(torch.Generator().manual_seed(seed))
    drop = float(dc.get("snas_drop_path") or 0.0) if method == "snas" else 0.0
    return _Parts(f"{method} search step on {space.full_name}", model, step, dict(dc["search"]),
                  space.input_shape, space.cfg.num_classes, drop)


def _spos_supernet(config: dict, variant: Variant, seed: int, supernet: str = "block") -> _Parts:
    from nasrepro.papers.spos.experiment import make_sampler, supernet_space
    from nasrepro.samplers import SinglePathStep

    space = supernet_space(config, supernet)
    sampler = make_sampler(config, space, "uniform", seed)
    model = space.build_supernet()
    return _Parts(f"SPOS {supernet} supernet on {space.full_name}", model,
                  SinglePathStep(sampler), dict(config["spos"]["supernet_train"]),
                  space.input_shape, _classes(space))


def _spos_retrain(config: dict, variant: Variant, seed: int) -> _Parts:
    from nasrepro.papers.spos.experiment import retrain_setup

    space, tc = retrain_setup(config)
    arch = space.sample(random.Random(seed))
    return _Parts(f"SPOS standalone net on {space.full_name}", space.build(arch), None, dict(tc),
                  space.input_shape, _classes(space))


def _sandwich(config: dict, variant: Variant, seed: int) -> _Parts:
    from nasrepro.papers.attentivenas.experiment import space_of, train_config
    from nasrepro.samplers import SandwichStep

    ac = config["attentivenas"]
    space = space_of(config)
    sw = ac["sandwich"]
    step = SandwichStep(space, seed, n_random=sw["n_random"], distill=sw["distill"],
                        max_dropout=sw["max_dropout"], max_drop_connect=sw["max_drop_connect"],
                        drop_connect_only_last_two_stages=sw.get(
                            "drop_connect_only_last_two_stages", True),
                        grad_clip_value=sw["grad_clip_value"])
    model = space.build_supernet(generator=torch.Generator().manual_seed(seed))
    return _Parts(f"AttentiveNAS sandwich (max + {sw['n_random']} + min) on {space.full_name}",
                  model, step, train_config(config, "main"), space.input_shape, _classes(space))


def _darts_eval(config: dict, variant: Variant, seed: int) -> _Parts:
    from nasrepro.papers.darts_snas.experiment import retrain_setup
    from nasrepro.spaces.darts_genotypes import REFERENCE_ARCHS
    from nasrepro.training.loop import StandardStep

    space, tc = retrain_setup(config)
    model = space.build(REFERENCE_ARCHS["DARTS_V2"], torch.Generator().manual_seed(seed))
    step = StandardStep(aux_weight=space.auxiliary_weight)
    return _Parts(f"DARTS_V2 evaluation net on {space.full_name}", model, step, dict(tc),
                  space.input_shape, space.cfg.num_classes,
                  drop_path=float(tc.get("drop_path", 0.0)) / 2)  # mid-ramp


def _fbnetv3_candidate(config: dict, variant: Variant, seed: int) -> _Parts:
    from nasrepro.papers.fbnetv3.experiment import arch_space, default_recipe, recipe_space

    space = arch_space(config)
    recipes = recipe_space(config)
    recipe = default_recipe(config)
    model = space.build(space.sample(random.Random(seed)), dropout=recipes.dropout(recipe))
    return _Parts(f"FBNetV3 candidate (default recipe) on {space.full_name}", model, None,
                  recipes.train_config(recipe), space.input_shape, _classes(space))


def _classes(space: Any) -> int:
    return int(space.settings.get("num_classes") or getattr(space.cfg, "num_classes", 10))


WORKLOADS: dict[str, Callable[..., _Parts]] = {
    "darts_search": lambda c, v, s: darts_search_parts(c, "darts-1st", v, s),
    "darts_search_2nd": lambda c, v, s: darts_search_parts(c, "darts-2nd", v, s),
    "snas_search": lambda c, v, s: darts_search_parts(c, "snas", v, s),
    "spos_supernet": _spos_supernet,
    "spos_retrain": _spos_retrain,
    "sandwich": _sandwich,
    "darts_eval": _darts_eval,
    "fbnetv3_candidate": _fbnetv3_candidate,
}
#: workloads that accept ``Variant(fused=True)``
FUSABLE = frozenset({"darts_search", "darts_search_2nd", "snas_search"})


def build_workload(name: str, config: dict, *, device: str = "cpu", variant: Variant = EAGER,
                   batch: int | None = None, seed: int = 0) -> Workload:
    """One training step of workload ``name`` on the networks and recipe of ``config``.

    Args:
        name: a key of :data:`WORKLOADS`.
        config: a resolved profile config (:func:`nasrepro.config.load_config`).
        device: ``cpu`` or ``cuda[:N]``.
        variant: eager fp32 or a fast path.
        batch: images per step (default: the recipe's ``batch_size``).
        seed: seeds the network, the strategy and the random batch.
    """
    if name not in WORKLOADS:
        raise KeyError(f"unknown workload {name!r}; known: {', '.join(WORKLOADS)}")
    if variant.fused and name not in FUSABLE:
        variant = replace(variant, fused=False)
    torch.manual_seed(seed)
    parts = WORKLOADS[name](config, variant, seed)
    return assemble(name, parts, device, variant, batch, seed)


@contextlib.contextmanager
def threads(n: int | None) -> Iterator[None]:
    """Temporarily run torch on ``n`` intra-op threads (``None``: unchanged)."""
    before = torch.get_num_threads()
    if n:
        torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(before)
