"""The training configuration shared by every paper's recipe (:class:`TrainConfig`).

One dataclass covers the four papers' training details, so each recipe is a set of values, not
a new loop: SPOS (SGD, linear decay per iteration, label smoothing 0.1, no weight decay on BN and
biases; PAPERS.md section 1), DARTS/SNAS (cosine to ``lr_min``, grad clip 5, cutout, drop path
with a linear ramp; section 2), AttentiveNAS (Nesterov SGD, warm-up + cosine; section 3) and the
FBNetV3 recipe dimensions (optimizer type, lr, weight decay, mixup, stochastic depth, model EMA;
section 4). :meth:`TrainConfig.from_dict` validates user input with one-line
:class:`~nasrepro.errors.ConfigError` messages.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from nasrepro.errors import ConfigError

OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")
SCHEDULES = ("cosine", "linear", "constant")
SCHEDULE_UNITS = ("step", "epoch")
DROP_PATH_SCHEDULES = ("linear", "constant")
AMP = ("none", "bf16")  # fast paths (nasrepro.training.fast)
#: the fast-path keys and their defaults (off): left out of a recipe's identity (config hash,
#: checkpoint) while at the default, so results and checkpoints of before the keys existed
#: stay valid
FAST_PATH_DEFAULTS: dict[str, Any] = {"channels_last": False, "amp": "none", "compile": "none",
                                      "compile_mode": "default"}
COMPILE = ("none", "network", "blocks")
COMPILE_MODES = ("default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")


@dataclass
class TrainConfig:
    """Hyperparameters of one training run (units in the comments).

    Attributes:
        epochs: number of epochs (passes over ``steps_per_epoch`` iterations).
        batch_size: images per iteration.
        lr: peak learning rate (after warm-up).
        optimizer: ``sgd`` | ``adam`` | ``adamw`` | ``rmsprop``.
        momentum: SGD/RMSprop momentum (Adam/AdamW use ``betas``).
        nesterov: Nesterov momentum (SGD only; AttentiveNAS).
        betas: Adam/AdamW betas.
        eps: optimizer epsilon; ``None`` keeps torch's default.
        weight_decay: L2 (SGD/RMSprop/Adam) or decoupled (AdamW) weight decay.
        no_wd_bn_bias: no weight decay on parameters with ``ndim <= 1`` (BN affine, biases).
        schedule: ``cosine`` | ``linear`` | ``constant`` decay after warm-up.
        schedule_unit: ``step`` (lr changes every iteration, SPOS) or ``epoch`` (constant within
            an epoch, like torch's per-epoch ``CosineAnnealingLR`` in the DARTS code).
        lr_min: learning rate at the end of the schedule.
        warmup_epochs: linear warm-up from 0 to ``lr`` (per iteration; may be fractional).
        label_smoothing: label smoothing of the cross-entropy.
        grad_clip: max global gradient norm (``None``: no clipping).
        crop_padding: random-crop padding in pixels (0: off).
        flip: random horizontal flips (only where the dataset allows them, ``data.flip``).
        cutout: cutout square side in pixels (0: off).
        steps_per_epoch: cap on iterations per epoch (``None``: the whole train split).
        eval_every: epochs between ``eval_fn`` calls (the last epoch is always evaluated).
        ema_decay: model-EMA decay per iteration (``None``: off); evaluation uses EMA weights.
        mixup_alpha: mixup Beta(alpha, alpha) parameter (0: off).
        drop_path: drop-path / stochastic-depth probability set on every module that has a
            ``drop_path_prob`` attribute (0: off).
        drop_path_schedule: ``linear`` (ramp 0 -> ``drop_path`` over the epochs, DARTS) or
            ``constant``.
        channels_last: network and training batches in channels-last memory format (fast
            path, :mod:`nasrepro.training.fast`).
        amp: ``none`` (fp32) or ``bf16`` (autocast around each training step; fast path).
        compile: ``none``, ``network`` (``torch.compile`` of the whole network) or ``blocks``
            (of each block the network lists in ``compile_units()``; fast path).
        compile_mode: ``torch.compile`` mode (``default``, ``reduce-overhead`` for CUDA graphs,
            ``max-autotune``, ``max-autotune-no-cudagraphs``).
    """

    epochs: int
    batch_size: int
    lr: float
    optimizer: str = "sgd"
    momentum: float = 0.9
    nesterov: bool = False
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float | None = None
    weight_decay: float = 0.0
    no_wd_bn_bias: bool = True
    schedule: str = "cosine"
    schedule_unit: str = "step"
    lr_min: float = 0.0
    warmup_epochs: float = 0.0  # epochs
    label_smoothing: float = 0.0
    grad_clip: float | None = None  # max L2 norm of all gradients
    crop_padding: int = 0  # pixels
    flip: bool = False
    cutout: int = 0  # pixels
    steps_per_epoch: int | None = None  # iterations
    eval_every: int = 1  # epochs
    ema_decay: float | None = None  # per iteration
    mixup_alpha: float = 0.0
    drop_path: float = 0.0  # probability
    drop_path_schedule: str = "linear"
    channels_last: bool = False
    amp: str = "none"
    compile: str = "none"
    compile_mode: str = "default"

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            setattr(self, f.name, _check(f.name, getattr(self, f.name)))
        if self.lr_min > self.lr:
            raise ConfigError(
                f"training key 'lr_min' ({self.lr_min}) is larger than 'lr' ({self.lr}); "
                "set lr_min <= lr"
            )
        if self.warmup_epochs > self.epochs:
            raise ConfigError(
                f"training key 'warmup_epochs' ({self.warmup_epochs}) exceeds 'epochs' "
                f"({self.epochs}); use at most as many warm-up epochs as epochs"
            )

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        """Build a config from a plain dict (e.g. a YAML section), validating every key.

        Raises:
            ConfigError: unknown key, missing required key, or bad value; the message names the
                key and the allowed keys or values.
        """
        if not isinstance(d, dict):
            raise ConfigError(
                f"training config must be a mapping of keys to values, got {type(d).__name__}; "
                f"allowed keys: {', '.join(_SPECS)}"
            )
        allowed = [f.name for f in dataclasses.fields(cls)]
        for key in d:
            if key not in _SPECS:
                raise ConfigError(
                    f"unknown training key {key!r}; allowed keys: {', '.join(allowed)}"
                )
        missing = [k for k in ("epochs", "batch_size", "lr") if k not in d]
        if missing:
            raise ConfigError(
                f"training config is missing required key(s) {', '.join(missing)}; "
                "add them (epochs, batch_size and lr have no default)"
            )
        return cls(**d)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON/YAML-safe: tuples become lists) that :meth:`from_dict` accepts."""
        out = dataclasses.asdict(self)
        out["betas"] = list(self.betas)
        return out

    def identity_dict(self) -> dict[str, Any]:
        """:meth:`to_dict` without the fast-path keys that are at their defaults (what a
        checkpoint records: turning no fast path on keeps older checkpoints resumable)."""
        return without_default_fast_paths(self.to_dict())


def without_default_fast_paths(recipe: dict[str, Any]) -> dict[str, Any]:
    """``recipe`` without the keys of :data:`FAST_PATH_DEFAULTS` that hold their default."""
    return {k: v for k, v in recipe.items()
            if not (k in FAST_PATH_DEFAULTS and v == FAST_PATH_DEFAULTS[k])}


def _num(key: str, value: Any, kind: type) -> Any:
    """Coerce ``value`` to int/float (numeric strings such as YAML's ``5e-4`` allowed)."""
    if isinstance(value, bool):
        raise ConfigError(f"training key {key!r} must be a number, got {value!r}; give a number")
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise ConfigError(
                f"training key {key!r} must be a number, got {value!r}; give a number"
            ) from None
    if kind is int:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int):
            raise ConfigError(
                f"training key {key!r} must be an integer, got {value!r}; give an integer"
            )
        return value
    if not isinstance(value, int | float):
        raise ConfigError(f"training key {key!r} must be a number, got {value!r}; give a number")
    return float(value)


def _range(key: str, value: float, lo: float, hi: float | None, *, lo_open: bool = False,
           hi_open: bool = False) -> None:
    bad = value < lo or (lo_open and value == lo)
    if hi is not None:
        bad = bad or value > hi or (hi_open and value == hi)
    if bad:
        lb = "(" if lo_open else "["
        rb = ")" if hi_open else "]"
        hs = "inf)" if hi is None else f"{hi}{rb}"
        raise ConfigError(
            f"training key {key!r} = {value} is out of range; allowed: {lb}{lo}, {hs}"
        )


def _choice(key: str, value: Any, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ConfigError(
            f"training key {key!r} = {value!r} is not allowed; allowed values: {', '.join(choices)}"
        )
    return value


def _bool(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"training key {key!r} must be true or false, got {value!r}")
    return value


def _int_range(lo: int, *, optional: bool = False) -> Any:
    def check(key: str, v: Any) -> Any:
        if v is None and optional:
            return None
        v = _num(key, v, int)
        _range(key, v, lo, None)
        return v

    return check


def _float_range(lo: float, hi: float | None = None, *, lo_open: bool = False,
                 hi_open: bool = False, optional: bool = False) -> Any:
    def check(key: str, v: Any) -> Any:
        if v is None and optional:
            return None
        v = _num(key, v, float)
        _range(key, v, lo, hi, lo_open=lo_open, hi_open=hi_open)
        return v

    return check


def _betas(key: str, v: Any) -> tuple[float, float]:
    if not isinstance(v, list | tuple) or len(v) != 2:
        raise ConfigError(f"training key {key!r} must be a pair [beta1, beta2], got {v!r}")
    out = tuple(_num(key, b, float) for b in v)
    for b in out:
        _range(key, b, 0.0, 1.0, hi_open=True)
    return out  # type: ignore[return-value]


_SPECS: dict[str, Any] = {
    "epochs": _int_range(1),
    "batch_size": _int_range(1),
    "lr": _float_range(0.0, lo_open=True),
    "optimizer": lambda k, v: _choice(k, v, OPTIMIZERS),
    "momentum": _float_range(0.0, 1.0, hi_open=True),
    "nesterov": _bool,
    "betas": _betas,
    "eps": _float_range(0.0, lo_open=True, optional=True),
    "weight_decay": _float_range(0.0),
    "no_wd_bn_bias": _bool,
    "schedule": lambda k, v: _choice(k, v, SCHEDULES),
    "schedule_unit": lambda k, v: _choice(k, v, SCHEDULE_UNITS),
    "lr_min": _float_range(0.0),
    "warmup_epochs": _float_range(0.0),
    "label_smoothing": _float_range(0.0, 1.0, hi_open=True),
    "grad_clip": _float_range(0.0, lo_open=True, optional=True),
    "crop_padding": _int_range(0),
    "flip": _bool,
    "cutout": _int_range(0),
    "steps_per_epoch": _int_range(1, optional=True),
    "eval_every": _int_range(1),
    "ema_decay": _float_range(0.0, 1.0, lo_open=True, hi_open=True, optional=True),
    "mixup_alpha": _float_range(0.0),
    "drop_path": _float_range(0.0, 1.0, hi_open=True),
    "drop_path_schedule": lambda k, v: _choice(k, v, DROP_PATH_SCHEDULES),
    "channels_last": _bool,
    "amp": lambda k, v: _choice(k, v, AMP),
    "compile": lambda k, v: _choice(k, v, COMPILE),
    "compile_mode": lambda k, v: _choice(k, v, COMPILE_MODES),
}


def _check(key: str, value: Any) -> Any:
    return _SPECS[key](key, value)
