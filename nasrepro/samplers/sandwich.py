"""Sandwich-rule supernet training with in-place distillation (AttentiveNAS, Wang et al. 2021,
Sec. 3 / PAPERS.md section 3 "Training"; BigNAS's uniform sandwich baseline).

A step strategy for the one training loop (:func:`nasrepro.training.train`). Each step, as in
the official ``train_attentive_nas.py``:

1. the max subnet is trained with the loop's criterion (CE with the recipe's label smoothing);
   its logits, *detached*, become the soft targets;
2. ``n_random`` subnets chosen by a pluggable ``choose`` (default: uniform ``space.sample``;
   :class:`~nasrepro.samplers.attentive.AttentiveChooser` gives BestUp-k / WorstUp-k);
3. the min subnet;

the subnets of 2-3 are trained with the official ``KLLossSoft`` to the soft targets
(:func:`soft_distill_loss`), or with the criterion when ``distill=False``. Each subnet calls
``backward()``: gradients accumulate and the loop makes one optimizer step.

As the official code, dropout (before the classifier) and drop-connect are on for the max
subnet only (``max_dropout``, ``max_drop_connect``; official 0.2 / 0.2 on the last two stages,
through the model's ``set_dropout_rate``) and reset to 0 for the other subnets; and after the
last ``backward()`` the gradients are clipped by value (``grad_clip_value``; official
``clip_grad_value_(model.parameters(), 1.0)`` right before ``optimizer.step()``). The loop
makes its optimizer step right after the strategy returns (only its own norm clipping, off in
this recipe, comes between), so clipping here is the official order.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from nasrepro.spaces.base import Arch, SearchSpace
from nasrepro.training.loop import batch_accuracy, split_logits

__all__ = ["Chooser", "SandwichStep", "soft_distill_loss"]

#: ``choose(model, x, y, ctx) -> list[arch]``: called once per random slot of a step; every
#: returned arch is trained (normally one per call).
Chooser = Callable[[nn.Module, Tensor, Tensor, Any], list[Arch]]


def soft_distill_loss(student_logits: Tensor, teacher_logits: Tensor) -> Tensor:
    """Official ``KLLossSoft``: ``-sum(softmax(teacher) * log_softmax(student))``, batch mean.

    It equals KL(teacher || student) up to the teacher's entropy (a constant for the student).
    The teacher is detached here too, so no gradient ever reaches it.

    Args:
        student_logits: ``(N, C)`` logits of the trained subnet.
        teacher_logits: ``(N, C)`` logits of the max subnet.

    Returns:
        Scalar loss.
    """
    target = F.softmax(teacher_logits.detach(), dim=1)
    return -(target * F.log_softmax(student_logits, dim=1)).sum(dim=1).mean()


def _set_rng_state(rng: random.Random, state: Any) -> None:
    # tuples may come back as lists after a checkpoint round trip
    rng.setstate((state[0], tuple(state[1]), state[2]))


class SandwichStep:
    """Sandwich rule: max subnet (CE), ``n_random`` chosen subnets and the min subnet (KD).

    Args:
        space: the search space (``sample``, ``min_arch``, ``max_arch``, ``cost``); the model
            is its supernet, called as ``model(x, arch)``.
        seed: seed of the step's ``random.Random`` (the default uniform choice).
        n_random: subnets between the max and the min one (official ``num_arch_training`` 4
            = max + 2 random + min).
        distill: in-place distillation from the max net's detached logits (official); else the
            non-max subnets use the criterion with the labels.
        choose: ``choose(model, x, y, ctx) -> list[arch]``, called once per random slot
            (default: ``[space.sample(self.rng)]``). Its ``state_dict``/``load_state_dict``,
            when present, are saved with the step's.
        max_dropout: dropout probability before the classifier, max subnet only (official 0.2).
        max_drop_connect: drop-connect rate of the max subnet (official 0.2), applied through
            ``model.set_dropout_rate`` (models without it must keep both at 0).
        drop_connect_only_last_two_stages: official ``drop_connect_only_last_two_stages``.
        grad_clip_value: clip every gradient to ``[-v, v]`` after the last backward
            (``None``: off; official 1.0).

    Attributes:
        sampled_macs: MACs of every trained random subnet (not the max/min ones), in order.
    """

    def __init__(self, space: SearchSpace, seed: int, n_random: int = 2, distill: bool = True,
                 choose: Chooser | None = None, max_dropout: float = 0.0,
                 max_drop_connect: float = 0.0, drop_connect_only_last_two_stages: bool = True,
                 grad_clip_value: float | None = None) -> None:
        if n_random < 0:
            raise ValueError(f"n_random must be >= 0, got {n_random}")
        if not (0.0 <= max_dropout < 1.0 and 0.0 <= max_drop_connect < 1.0):
            raise ValueError("max_dropout and max_drop_connect must be in [0, 1)")
        if grad_clip_value is not None and grad_clip_value <= 0:
            raise ValueError(f"grad_clip_value must be > 0 or None, got {grad_clip_value}")
        self.max_dropout = max_dropout
        self.max_drop_connect = max_drop_connect
        self.only_last_two = drop_connect_only_last_two_stages
        self.grad_clip_value = grad_clip_value
        self.space = space
        self.rng = random.Random(seed)
        self.n_random = n_random
        self.distill = distill
        self.choose = choose
        self.max_arch = space.max_arch()
        self.min_arch = space.min_arch()
        self.sampled_macs: list[int] = []

    def _random_archs(self, model: nn.Module, x: Tensor, y: Tensor, ctx: Any) -> list[Arch]:
        archs: list[Arch] = []
        for _ in range(self.n_random):
            if self.choose is None:
                archs.append(self.space.sample(self.rng))
            else:
                archs.extend(self.choose(model, x, y, ctx))
        return archs

    def __call__(self, model: nn.Module, x: Tensor, y: Tensor, ctx: Any) -> dict[str, float]:
        """Train the max, the chosen and the min subnets on ``(x, y)``; one backward each.

        Returns:
            ``loss`` and ``acc`` of the max subnet, ``sub_loss``: mean loss of the others.
        """
        regularise = self.max_dropout > 0 or self.max_drop_connect > 0
        if regularise:
            model.set_dropout_rate(self.max_dropout, self.max_drop_connect, self.only_last_two)
        try:
            logits, _ = split_logits(model(x, self.max_arch))
            loss = ctx.criterion(logits, y)
            loss.backward()
        finally:
            if regularise:
                model.set_dropout_rate(0.0, 0.0, self.only_last_two)
        teacher = logits.detach()
        metrics = {"loss": float(loss.detach()), "acc": batch_accuracy(teacher, y)}

        # candidates are chosen (and scored) before training any of them; the weights do not
        # change within a step, so this matches the official interleaved order
        randoms = self._random_archs(model, x, y, ctx)
        self.sampled_macs.extend(int(self.space.cost(a).macs) for a in randoms)
        sub_losses = []
        for arch in [*randoms, self.min_arch]:
            out, _ = split_logits(model(x, arch))
            sub = soft_distill_loss(out, teacher) if self.distill else ctx.criterion(out, y)
            sub.backward()
            sub_losses.append(float(sub.detach()))
        metrics["sub_loss"] = sum(sub_losses) / len(sub_losses)
        if self.grad_clip_value is not None:
            torch.nn.utils.clip_grad_value_(model.parameters(), self.grad_clip_value)
        return metrics

    def state_dict(self) -> dict[str, Any]:
        """RNG state, trained MACs and the chooser's state (plain containers only)."""
        state: dict[str, Any] = {"rng": self.rng.getstate(),
                                 "sampled_macs": list(self.sampled_macs)}
        if self.choose is not None and hasattr(self.choose, "state_dict"):
            state["choose"] = self.choose.state_dict()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` (the sequence of choices then continues identically)."""
        _set_rng_state(self.rng, state["rng"])
        self.sampled_macs = [int(m) for m in state["sampled_macs"]]
        if "choose" in state and self.choose is not None and hasattr(self.choose,
                                                                      "load_state_dict"):
            self.choose.load_state_dict(state["choose"])

