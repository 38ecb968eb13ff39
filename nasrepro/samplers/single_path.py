"""Single-path supernet training step (SPOS, Guo et al. 2019, Eq. 4-5).

A strategy for the one training loop (:func:`nasrepro.training.train`): each step draws one
path from a sampler (any registered ``sampler``, :mod:`nasrepro.samplers.protocol`: uniform,
FLOPs-binned, or an attentive BestUp/WorstUp chooser) and trains that path's weights only.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from nasrepro.errors import ConfigError


class SinglePathStep:
    """Train one sampled path per step: ``loss = CE(supernet(x, arch), y)``."""

    def __init__(self, sampler: Any) -> None:
        self.sampler = sampler
        self.sampled_macs: list[int] = []

    def __call__(self, model: nn.Module, x: Tensor, y: Tensor, ctx: Any) -> dict[str, float]:
        archs = self.sampler(model, x, y, ctx)
        if len(archs) != 1:
            raise ConfigError(f"a single-path (SPOS) step trains one path per step, but the "
                              f"sampler returned {len(archs)} archs; list a sampler that "
                              f"returns one per call")
        arch = archs[0]
        logits = model(x, arch)
        loss = ctx.criterion(logits, y)
        loss.backward()
        self.sampled_macs.append(int(self.sampler.space.cost(arch).macs))
        acc = (logits.argmax(1) == y).float().mean().item()
        return {"loss": loss.item(), "acc": acc}

    def state_dict(self) -> dict[str, Any]:
        state = getattr(self.sampler, "state_dict", dict)()
        return {"sampler": state, "sampled_macs": list(self.sampled_macs)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if hasattr(self.sampler, "load_state_dict"):
            self.sampler.load_state_dict(state["sampler"])
        self.sampled_macs = list(state["sampled_macs"])
