"""Opt-in fast paths of the one training loop (issue 15: paper scale on one GPU).

Four keys of every recipe (:class:`~nasrepro.training.TrainConfig`), all off by default, so no
existing result changes:

* ``channels_last``: the network's weights and each training batch in channels-last memory
  format (NHWC), which cuDNN's and oneDNN's convolutions often prefer;
* ``amp: bf16``: the training step (forward, loss and the strategy's backward passes) under
  ``torch.autocast`` with bfloat16 (no gradient scaler is needed for bf16; fp16 is not offered);
* ``compile``: ``torch.compile`` in place (``nn.Module.compile``: state-dict keys, checkpoints
  and every caller stay as they are) of the whole ``network``, or of its repeated ``blocks``,
  the modules the network lists in ``compile_units()``: the SPOS choice blocks of every layer,
  the DARTS cells, the elastic MobileNet blocks. ``blocks`` is the per-choice cache of issue 15:
  a single-path supernet runs another path every step, which would recompile a whole-network
  graph each time; compiled blocks are specialised once per (block, shape, channel choice) and
  reused. Compilation is static (``dynamic=False``), with a recompile limit large enough for
  every choice of every block; ``network`` gives each network compiled in the process
  dynamo's default budget of 8 specialisations (instances of one class share a code object:
  a job that trains many candidate networks would otherwise run all but the first 8 eager);
* ``compile_mode``: ``torch.compile``'s mode; ``reduce-overhead`` adds CUDA graphs (on CUDA).

A compiled graph specialises on the Python floats it reads, so a drop-path ramp (DARTS
retraining: a new probability every epoch) would recompile every epoch and, past dynamo's limit,
fall back to eager. Networks with a ramped drop path (``DartsNet``) therefore have a
``drop_path_as_tensor`` switch that :func:`prepare` turns on with any ``compile``: the
probability reaches the graph as a 0-d tensor buffer. Its mask is drawn every step, from a
tensor probability: the same distribution as the eager float path, other draws.

Whether a fast path pays is measured by ``bench/gpu.py``, never assumed: issue 15 saw bf16 +
channels-last make the SPOS supernet 9x slower on an H200. Equal maths is tested in
``tests/test_fast_paths.py`` (the same log rows and final weights as the eager fp32 loop to float
tolerance; bf16: the step runs in bf16 on fp32 weights, its loss within 2 %).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from torch import Tensor, nn

from nasrepro.errors import ConfigError
from nasrepro.training.config import AMP, COMPILE, COMPILE_MODES

__all__ = [
    "AMP",
    "COMPILE",
    "COMPILE_MODES",
    "autocast",
    "compile_module",
    "compile_state_restored",
    "compile_units",
    "memory_format",
    "prepare",
]


#: recompiles allowed per code object with ``compile: blocks`` (torch's default, 8, would send
#: all but 8 specialisations of a block class back to eager); raised for the rest of the
#: process (:func:`compile_state_restored` undoes it)
BLOCK_RECOMPILE_LIMIT = 4096
#: dynamo's default recompile limit: what each network compiled with ``compile: network`` gets
NETWORK_RECOMPILE_LIMIT = 8
#: networks compiled whole in this process (all instances of a class share one code object,
#: so without a raise the ninth candidate network of a job would run eager)
_networks_compiled = 0


def compile_units(model: nn.Module) -> list[nn.Module]:
    """The repeated blocks ``compile: blocks`` compiles: ``model.compile_units()``.

    Raises:
        ConfigError: the network does not list its blocks.
    """
    units = getattr(model, "compile_units", None)
    if units is None:
        raise ConfigError(
            f"compile: blocks needs a network that lists its blocks (compile_units); "
            f"{type(model).__name__} does not: use compile: network or none"
        )
    return list(units())


def compile_module(module: nn.Module, mode: str = "default") -> None:
    """``module.compile`` in place, static shapes, with inductor's deterministic flag set to
    torch's (:mod:`nasrepro.determinism` keeps it off inductor's config until something
    compiles)."""
    import torch._inductor.config as inductor_config

    inductor_config.deterministic = torch.are_deterministic_algorithms_enabled()
    module.compile(mode=None if mode == "default" else mode, dynamic=False)


def prepare(model: nn.Module, *, channels_last: bool = False, compile: str = "none",
            compile_mode: str = "default") -> None:
    """Apply the memory format and compilation of a recipe to ``model``, in place."""
    if compile not in COMPILE:
        raise ConfigError(f"compile = {compile!r} is not allowed; allowed values: "
                          f"{', '.join(COMPILE)}")
    if compile_mode not in COMPILE_MODES:
        raise ConfigError(f"compile_mode = {compile_mode!r} is not allowed; allowed values: "
                          f"{', '.join(COMPILE_MODES)}")
    if channels_last:
        model.to(memory_format=torch.channels_last)
    if compile != "none":
        for m in model.modules():
            if hasattr(m, "drop_path_as_tensor"):
                m.drop_path_as_tensor = True
    if compile == "network":
        global _networks_compiled
        _networks_compiled += 1
        _raise_recompile_limit(NETWORK_RECOMPILE_LIMIT * _networks_compiled)
        compile_module(model, compile_mode)
    elif compile == "blocks":
        units = compile_units(model)
        _raise_recompile_limit(BLOCK_RECOMPILE_LIMIT)
        for unit in units:
            compile_module(unit, compile_mode)


def _raise_recompile_limit(limit: int) -> None:
    """Dynamo's per-code-object and accumulated recompile limits to at least ``limit``."""
    import torch._dynamo.config as dynamo_config

    dynamo_config.recompile_limit = max(dynamo_config.recompile_limit, limit)
    dynamo_config.accumulated_recompile_limit = max(
        dynamo_config.accumulated_recompile_limit, limit)


def memory_format(x: Tensor, channels_last: bool) -> Tensor:
    """``x`` in channels-last format when asked and it is an image batch (4-D)."""
    if channels_last and x.dim() == 4:
        return x.contiguous(memory_format=torch.channels_last)
    return x


@contextlib.contextmanager
def compile_state_restored() -> Iterator[None]:
    """Run a block that may compile, then restore dynamo's recompile limits (``compile:
    blocks`` raises them for the rest of the process, which is right for a DAG job, one process
    per job, but not for a benchmark that measures one variant after another) and drop every
    compiled graph (``torch._dynamo.reset``), so the next block starts as a fresh process."""
    import torch._dynamo
    import torch._dynamo.config as dynamo_config

    global _networks_compiled
    saved = (dynamo_config.recompile_limit, dynamo_config.accumulated_recompile_limit,
             _networks_compiled)
    try:
        yield
    finally:
        (dynamo_config.recompile_limit, dynamo_config.accumulated_recompile_limit,
         _networks_compiled) = saved
        torch._dynamo.reset()


@contextlib.contextmanager
def autocast(device_type: str, amp: str) -> Iterator[None]:
    """``torch.autocast`` for ``amp`` (``bf16``) on ``device_type``; nothing for ``none``."""
    if amp == "none":
        yield
        return
    if amp not in AMP:
        raise ConfigError(f"amp = {amp!r} is not allowed; allowed values: {', '.join(AMP)}")
    with torch.autocast(device_type=device_type, dtype=torch.bfloat16):
        yield
