"""Attentive sampling: BestUp-k / WorstUp-k (AttentiveNAS, Wang et al. 2021, Sec. 3.2;
PAPERS.md section 3 "Attentive sampling").

:class:`AttentiveChooser` is a ``choose`` for :class:`~nasrepro.samplers.sandwich.SandwichStep`.
Per random slot it draws a MACs bucket from the prior p(MACs)
(:class:`~nasrepro.spaces.macs_prior.MacsHistogram`), draws ``k`` candidates from
p(arch | MACs in bucket) (:func:`~nasrepro.spaces.macs_prior.sample_in_macs_range`), scores them
and returns the best (BestUp: lowest loss) or the worst (WorstUp: highest loss) one.

Scores:

* ``scorer="loss"`` (official code, k=3): the loss of each candidate on the current minibatch
  under ``no_grad``, with the loop's criterion, in the model's *current* mode (the official
  code scores in train mode, i.e. with batch statistics). Train-mode forwards would move the
  BN running statistics (the official supernet uses BN momentum 0, so its scoring leaves them
  alone); here every buffer of the model is saved before scoring and restored after, so
  scoring changes nothing in the model: the same normalisation as the official code, and
  running statistics as if no scoring had happened.
* a predictor ``f(list[arch]) -> list[accuracy]`` (paper, k=50): higher accuracy is better,
  so the loss-like score is ``-accuracy``.

Ties go to the first candidate.
"""

from __future__ import annotations

import random
from typing import Any, Literal

import torch
from torch import Tensor, nn

from nasrepro.samplers.protocol import Predictor
from nasrepro.samplers.sandwich import _set_rng_state
from nasrepro.spaces.base import Arch, SearchSpace
from nasrepro.spaces.macs_prior import MacsHistogram, sample_in_macs_range
from nasrepro.training.loop import split_logits

__all__ = ["AttentiveChooser", "Predictor"]

class AttentiveChooser:
    """BestUp-k / WorstUp-k choice of one subnet per call (``choose`` of ``SandwichStep``).

    Args:
        space: the search space.
        seed: seed of the chooser's ``random.Random`` (bucket and candidate draws).
        prior: p(MACs), e.g. ``macs_histogram(space, n, seed, bucket)``; anything with
            ``sample_range(rng) -> (low, high)``.
        k: candidates per slot (official loss scorer: 3; paper predictor: 50).
        mode: ``"best"`` (BestUp: train the lowest-loss candidate) or ``"worst"`` (WorstUp).
        scorer: ``"loss"`` (minibatch loss) or a :data:`Predictor`.
        max_tries: rejection-sampling proposals per candidate.

    Attributes:
        last: details of the latest choice: ``range`` (low, high), ``candidates``,
            ``scores`` (loss-like, lower is better) and ``index`` of the chosen one.
    """

    def __init__(self, space: SearchSpace, seed: int, prior: MacsHistogram | Any, k: int,
                 mode: Literal["best", "worst"] = "best",
                 scorer: Literal["loss"] | Predictor = "loss", max_tries: int = 1000) -> None:
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        if mode not in ("best", "worst"):
            raise ValueError(f"mode must be 'best' or 'worst', got {mode!r}")
        if not (scorer == "loss" or callable(scorer)):
            raise ValueError(f"scorer must be 'loss' or a predictor callable, got {scorer!r}")
        self.space = space
        self.rng = random.Random(seed)
        self.prior = prior
        self.k = k
        self.mode = mode
        self.scorer = scorer
        self.max_tries = max_tries
        self.last: dict[str, Any] | None = None

    def candidates(self) -> tuple[tuple[float, float], list[Arch]]:
        """Draw a MACs bucket from the prior and ``k`` archs inside it."""
        low, high = self.prior.sample_range(self.rng)
        archs = [sample_in_macs_range(self.space, self.rng, low, high, self.max_tries)
                 for _ in range(self.k)]
        return (float(low), float(high)), archs

    def scores(self, model: nn.Module, x: Tensor, y: Tensor, ctx: Any,
               archs: list[Arch]) -> list[float]:
        """Loss-like scores (lower is better) of ``archs``; the model is left unchanged."""
        if self.scorer != "loss":
            accs = list(self.scorer(archs))  # type: ignore[operator]
            if len(accs) != len(archs):
                raise ValueError(f"the predictor returned {len(accs)} scores for {len(archs)} "
                                 "archs; return one accuracy per arch")
            return [-float(a) for a in accs]
        from nasrepro.training import distributed

        saved = [(b, b.detach().clone()) for b in model.buffers()]
        try:
            with torch.no_grad():
                out = [float(ctx.criterion(split_logits(model(x, a))[0], y)) for a in archs]
        finally:
            with torch.no_grad():
                for b, v in saved:
                    b.copy_(v)
        # several ranks: each scored its share of the batch; the mean is the whole batch's
        # loss, so every rank picks the same candidate
        return distributed.average_list(out, distributed.current())

    def __call__(self, model: nn.Module, x: Tensor, y: Tensor, ctx: Any) -> list[Arch]:
        """One slot: the best/worst of ``k`` candidates in a bucket drawn from the prior."""
        rng_range, archs = self.candidates()
        scores = self.scores(model, x, y, ctx, archs)
        pick = min if self.mode == "best" else max
        index = pick(range(len(scores)), key=scores.__getitem__)
        self.last = {"range": rng_range, "candidates": archs, "scores": scores, "index": index}
        return [archs[index]]

    def state_dict(self) -> dict[str, Any]:
        """The RNG state (plain containers)."""
        return {"rng": self.rng.getstate()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`."""
        _set_rng_state(self.rng, state["rng"])
