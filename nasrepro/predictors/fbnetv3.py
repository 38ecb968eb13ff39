"""FBNetV3's neural accuracy predictor (Dai et al. 2021, Sec. 3.1 / Fig. 3; PAPERS.md section 4).

An **architecture encoder** (MLP on the arch encoding) is shared by two heads:

* the **proxy head** predicts the arch's MACs and params (log, standardised). It is
  *pretrained* on many random archs whose labels come free from the analytic cost model
  (:func:`pretrain_proxy`);
* the **accuracy head** takes the encoder output concatenated with the recipe encoding and
  predicts the (standardised) accuracy.

Both use ``torch.nn.HuberLoss``. Fitting the accuracy head (:func:`fit_accuracy`) has two
phases, as in the paper: ``phase1_epochs`` with the encoder frozen (``requires_grad=False``),
then ``phase2_epochs`` of the whole model at ``lr * phase2_lr_ratio``. The ablation "no proxy
pretraining" (``pretrained=False``) keeps the same schedule from a randomly initialised encoder.

Everything is seeded (``torch.Generator`` for initialisation and mini-batch order); on CPU the
same seed gives bit-identical predictions. :meth:`FBNetV3Predictor.score` scores any number of
candidates in batches (the fine search scores whole populations at once).
"""

from __future__ import annotations

import copy
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from nasrepro.errors import ConfigError


@dataclass
class PredictorConfig:
    """Hyperparameters of the predictor (units in comments).

    Attributes:
        hidden: width of the encoder and accuracy-head layers.
        encoder_layers: linear layers of the encoder.
        proxy_archs: random archs for proxy pretraining.
        proxy_epochs: passes over them.
        proxy_lr: Adam lr of proxy pretraining.
        phase1_epochs: accuracy-head epochs with the encoder frozen (paper: 50).
        phase2_epochs: epochs of the whole model (paper: 50).
        lr: Adam lr of phase 1.
        phase2_lr_ratio: phase-2 lr = ``lr * phase2_lr_ratio``.
        weight_decay: Adam weight decay.
        batch_size: samples per step.
        huber_delta: ``HuberLoss(delta)`` on standardised targets.
    """

    hidden: int = 64
    encoder_layers: int = 2
    proxy_archs: int = 2000
    proxy_epochs: int = 30
    proxy_lr: float = 3e-3
    phase1_epochs: int = 50
    phase2_epochs: int = 50
    lr: float = 3e-3
    phase2_lr_ratio: float = 0.1
    weight_decay: float = 1e-4
    batch_size: int = 64
    huber_delta: float = 1.0

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> PredictorConfig:
        d = dict(d or {})
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(d) - known)
        if unknown:
            raise ConfigError(f"unknown predictor key(s) {', '.join(unknown)}; known: "
                              f"{', '.join(sorted(known))}")
        return cls(**d)


class FBNetV3Predictor(nn.Module):
    """Encoder MLP + proxy head (MACs, params) + accuracy head (encoder output + recipe).

    Args:
        arch_dim: length of the arch encoding.
        recipe_dim: length of the recipe encoding (0 for arch-only use).
        hidden: layer width.
        encoder_layers: linear layers of the encoder.
        generator: RNG of the initialisation.
    """

    def __init__(self, arch_dim: int, recipe_dim: int, hidden: int = 64, encoder_layers: int = 2,
                 generator: torch.Generator | None = None) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        d = arch_dim
        for _ in range(encoder_layers):
            layers += [nn.Linear(d, hidden), nn.ReLU()]
            d = hidden
        self.encoder = nn.Sequential(*layers)
        self.proxy_head = nn.Linear(hidden, 2)
        self.acc_head = nn.Sequential(nn.Linear(hidden + recipe_dim, hidden), nn.ReLU(),
                                      nn.Linear(hidden, 1))
        self.arch_dim, self.recipe_dim = arch_dim, recipe_dim
        #: standardisation of the targets (set when fitting)
        self.register_buffer("proxy_mean", torch.zeros(2))
        self.register_buffer("proxy_std", torch.ones(2))
        self.register_buffer("acc_mean", torch.zeros(1))
        self.register_buffer("acc_std", torch.ones(1))
        with torch.no_grad():
            for m in self.modules():
                if isinstance(m, nn.Linear):
                    bound = 1.0 / math.sqrt(m.in_features)
                    m.weight.uniform_(-bound, bound, generator=generator)
                    m.bias.uniform_(-bound, bound, generator=generator)

    def proxy(self, arch_x: Tensor) -> Tensor:
        """Standardised (log MACs, log params) predictions."""
        return self.proxy_head(self.encoder(arch_x))

    def forward(self, arch_x: Tensor, recipe_x: Tensor) -> Tensor:
        """Standardised accuracy predictions, shape [N]."""
        z = self.encoder(arch_x)
        return self.acc_head(torch.cat([z, recipe_x], dim=1)).squeeze(1)

    @torch.no_grad()
    def predict(self, arch_x: Tensor, recipe_x: Tensor, batch_size: int = 4096) -> Tensor:
        """Accuracy predictions in the target's units, scored in batches."""
        self.eval()
        out = [self(arch_x[i:i + batch_size], recipe_x[i:i + batch_size])
               for i in range(0, arch_x.shape[0], batch_size)]
        y = torch.cat(out) if out else torch.zeros(0)
        return y * self.acc_std + self.acc_mean

    @torch.no_grad()
    def predict_proxy(self, arch_x: Tensor) -> Tensor:
        """(log MACs, log params) predictions in natural-log units."""
        self.eval()
        return self.proxy(arch_x) * self.proxy_std + self.proxy_mean

    def score(self, space: Any, cands: Sequence[dict], batch_size: int = 4096) -> np.ndarray:
        """Predicted accuracy of joint candidates (``space`` = a :class:`JointSpace`)."""
        a, r = encode_candidates(space, cands)
        return self.predict(a, r, batch_size).numpy().astype(np.float64)


def encode_candidates(space: Any, cands: Sequence[dict]) -> tuple[Tensor, Tensor]:
    """(arch encodings [N, A], recipe encodings [N, R]) as float32 tensors."""
    arch = [space.encode_arch(c["arch"]) for c in cands]
    rec = [space.encode_recipe(c["recipe"]) for c in cands]
    na, nr = space.arch_encoding_size, space.recipes.encoding_size
    return (torch.tensor(arch, dtype=torch.float32).reshape(len(cands), na),
            torch.tensor(rec, dtype=torch.float32).reshape(len(cands), nr))


def _run_epochs(model: nn.Module, params: list[Tensor], inputs: tuple[Tensor, ...], target: Tensor,
                loss_fn: Any, epochs: int, lr: float, cfg: PredictorConfig,
                generator: torch.Generator) -> list[float]:
    """Adam on ``loss_fn(model, *batch_inputs) vs target``; returns per-epoch mean losses."""
    if epochs <= 0 or not params:
        return []
    opt = torch.optim.Adam(params, lr=lr, weight_decay=cfg.weight_decay)
    n = target.shape[0]
    losses = []
    model.train()
    for _ in range(epochs):
        perm = torch.randperm(n, generator=generator)
        total = 0.0
        for i in range(0, n, cfg.batch_size):
            idx = perm[i:i + cfg.batch_size]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(*(x[idx] for x in inputs), target[idx])
            loss.backward()
            opt.step()
            total += float(loss.detach()) * idx.numel()
        losses.append(total / n)
    return losses


def proxy_targets(arch_space: Any, archs: Sequence[dict]) -> Tensor:
    """(log MACs, log params) of each arch from the analytic cost model: free labels."""
    costs = [arch_space.cost(a) for a in archs]
    return torch.tensor([[math.log(c.macs), math.log(c.params)] for c in costs],
                        dtype=torch.float32)


def pretrain_proxy(model: FBNetV3Predictor, space: Any, cfg: PredictorConfig, *, seed: int
                   ) -> dict[str, Any]:
    """Pretrain encoder + proxy head on ``cfg.proxy_archs`` random archs (HuberLoss).

    Args:
        model: the predictor (modified in place).
        space: a :class:`~nasrepro.spaces.recipe.JointSpace` (arch space and arch encoding).
        cfg: predictor settings.
        seed: seeds the arch sample and the mini-batch order.

    Returns:
        ``{"losses": per-epoch losses, "n_archs": int}``.
    """
    rng = random.Random(f"proxy-{seed}")
    archs = [space.arch_space.sample(rng) for _ in range(cfg.proxy_archs)]
    x = torch.tensor([space.encode_arch(a) for a in archs], dtype=torch.float32)
    y = proxy_targets(space.arch_space, archs)
    mean, std = y.mean(0), y.std(0).clamp_min(1e-6)
    model.proxy_mean.copy_(mean)
    model.proxy_std.copy_(std)
    yz = (y - mean) / std
    huber = nn.HuberLoss(delta=cfg.huber_delta)
    gen = torch.Generator().manual_seed(seed)
    params = list(model.encoder.parameters()) + list(model.proxy_head.parameters())
    losses = _run_epochs(model, params, (x,), yz, lambda xb, yb: huber(model.proxy(xb), yb),
                         cfg.proxy_epochs, cfg.proxy_lr, cfg, gen)
    return {"losses": losses, "n_archs": len(archs)}


def set_encoder_trainable(model: FBNetV3Predictor, trainable: bool) -> None:
    """Freeze (``False``) or unfreeze the encoder."""
    for p in model.encoder.parameters():
        p.requires_grad_(trainable)


def fit_accuracy(model: FBNetV3Predictor, space: Any, cands: Sequence[dict],
                 targets: Sequence[float], cfg: PredictorConfig, *, seed: int
                 ) -> dict[str, Any]:
    """Two-phase fit of the accuracy head on measured candidates (HuberLoss).

    Phase 1: ``cfg.phase1_epochs`` with the encoder frozen (lr ``cfg.lr``); phase 2:
    ``cfg.phase2_epochs`` of everything at ``cfg.lr * cfg.phase2_lr_ratio``. Targets are
    standardised with their mean and std (stored in the model).

    Returns:
        ``{"phase1_losses", "phase2_losses", "encoder_frozen_in_phase1": bool}``.
    """
    if len(cands) != len(targets) or len(cands) < 2:
        raise ConfigError(f"the predictor needs >= 2 measured candidates with one target each "
                          f"(got {len(cands)} candidates, {len(targets)} targets); train more "
                          f"candidates (fbnetv3 coarse batch_size)")
    a, r = encode_candidates(space, cands)
    y = torch.tensor(list(targets), dtype=torch.float32)
    mean, std = y.mean(), y.std().clamp_min(1e-6)
    model.acc_mean.copy_(mean.reshape(1))
    model.acc_std.copy_(std.reshape(1))
    yz = (y - mean) / std
    huber = nn.HuberLoss(delta=cfg.huber_delta)
    gen = torch.Generator().manual_seed(seed)

    def loss_fn(ab: Tensor, rb: Tensor, yb: Tensor) -> Tensor:
        return huber(model(ab, rb), yb)

    enc_before = [p.detach().clone() for p in model.encoder.parameters()]
    set_encoder_trainable(model, False)
    head = list(model.acc_head.parameters())
    l1 = _run_epochs(model, head, (a, r), yz, loss_fn, cfg.phase1_epochs, cfg.lr, cfg, gen)
    frozen = all(torch.equal(p, q) for p, q in zip(enc_before, model.encoder.parameters(),
                                                    strict=True))
    set_encoder_trainable(model, True)
    everything = [p for p in model.parameters() if p.requires_grad]
    l2 = _run_epochs(model, everything, (a, r), yz, loss_fn, cfg.phase2_epochs,
                     cfg.lr * cfg.phase2_lr_ratio, cfg, gen)
    return {"phase1_losses": l1, "phase2_losses": l2, "encoder_frozen_in_phase1": frozen}


def new_predictor(space: Any, cfg: PredictorConfig, *, seed: int) -> FBNetV3Predictor:
    """A freshly initialised predictor for ``space`` (seeded)."""
    gen = torch.Generator().manual_seed(seed)
    return FBNetV3Predictor(space.arch_encoding_size, space.recipes.encoding_size, cfg.hidden,
                            cfg.encoder_layers, generator=gen)


def train_predictor(space: Any, cands: Sequence[dict], targets: Sequence[float],
                    cfg: PredictorConfig, *, seed: int, pretrained: FBNetV3Predictor | None
                    ) -> FBNetV3Predictor:
    """A predictor fitted on ``(cands, targets)``: a copy of ``pretrained`` (encoder + proxy
    head pretrained), or a fresh one when ``pretrained`` is None (the ablation)."""
    model = copy.deepcopy(pretrained) if pretrained is not None else \
        new_predictor(space, cfg, seed=seed)
    fit_accuracy(model, space, cands, targets, cfg, seed=seed)
    return model
