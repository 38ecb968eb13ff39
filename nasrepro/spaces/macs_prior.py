"""The MACs prior of attentive sampling (AttentiveNAS, Wang et al. 2021, Sec. 3.2).

AttentiveNAS draws a FLOPs target from p(FLOPs), the FLOPs histogram of the search space
(official ``sampler/attentive_nas_sampler.py``: 25 MFLOPs buckets, ``round(flops / step) *
step``, i.e. buckets *centred* on multiples of the step), then archs from p(arch | FLOPs) by
rejection sampling. Written against the :class:`~nasrepro.spaces.base.SearchSpace` protocol
only (``sample`` and ``cost``), so it works for every space:

* :func:`macs_histogram` estimates p(MACs) from ``n`` uniform samples;
* :func:`sample_in_macs_range` rejection-samples one arch with MACs in ``[low, high)``;
* :func:`stratified_archs` draws a seeded set of archs spread over the whole MACs range (a
  bucket drawn uniformly among the non-empty ones, then an arch inside it): the fixed subnet
  set on which AttentiveNAS's supernets are compared;
* :meth:`MacsHistogram.to_dict` / :meth:`MacsHistogram.from_dict` store the prior as JSON (the
  pipeline builds it once per preset and caches it as a rule output).

The official sampler proposes each gene from its per-bucket marginal (a lookup table of
pre-sampled archs) and accepts an arch whose rounded FLOPs hit the target; proposing from the
uniform space distribution and accepting inside the bucket samples the same conditional
p(arch | MACs in bucket) exactly, with more rejections.
"""

from __future__ import annotations

import bisect
import math
import random
from dataclasses import dataclass

from nasrepro.spaces.base import Arch, SearchSpace

__all__ = ["MacsHistogram", "macs_histogram", "sample_in_macs_range", "stratified_archs"]


@dataclass(frozen=True)
class MacsHistogram:
    """p(MACs) over buckets ``[edges[i], edges[i + 1])``.

    Attributes:
        edges: ``len(probs) + 1`` increasing bucket edges, in MACs.
        probs: probability of each bucket (sums to 1).
        counts: number of samples in each bucket.
        n: number of samples.
    """

    edges: tuple[float, ...]
    probs: tuple[float, ...]
    counts: tuple[int, ...]
    n: int

    def bucket_of(self, macs: float) -> int:
        """Index of the bucket holding ``macs`` (-1 if outside every bucket)."""
        i = bisect.bisect_right(self.edges, macs) - 1
        return i if 0 <= i < len(self.probs) else -1

    def sample_range(self, rng: random.Random) -> tuple[float, float]:
        """Draw a bucket from ``probs``; returns its ``(low, high)`` edges."""
        i = rng.choices(range(len(self.probs)), weights=self.probs)[0]
        return self.edges[i], self.edges[i + 1]

    def to_dict(self) -> dict:
        """Plain JSON-safe dict (``edges``, ``probs``, ``counts``, ``n``)."""
        return {"edges": list(self.edges), "probs": list(self.probs),
                "counts": list(self.counts), "n": self.n}

    @classmethod
    def from_dict(cls, d: dict) -> MacsHistogram:
        """Inverse of :meth:`to_dict`; checks the lengths and that the edges increase."""
        edges = tuple(float(e) for e in d["edges"])
        probs = tuple(float(p) for p in d["probs"])
        counts = tuple(int(c) for c in d["counts"])
        if (len(edges) != len(probs) + 1 or len(counts) != len(probs) or not probs
                or any(b <= a for a, b in zip(edges, edges[1:], strict=False))):
            raise ValueError("a MACs histogram needs len(edges) == len(probs) + 1 == "
                             "len(counts) + 1 and increasing edges")
        return cls(edges=edges, probs=probs, counts=counts, n=int(d["n"]))


def macs_histogram(space: SearchSpace, n: int, seed: int, bucket: float,
                   centered: bool = True) -> MacsHistogram:
    """Histogram of the MACs of ``n`` uniformly sampled archs of ``space``.

    Args:
        space: any search space.
        n: number of samples (> 0).
        seed: seed of the ``random.Random`` that samples the archs.
        bucket: bucket width in MACs (AttentiveNAS: 25e6).
        centered: buckets centred on multiples of ``bucket`` (the official
            ``round(macs / bucket)``); else edges at multiples of ``bucket``.

    Returns:
        :class:`MacsHistogram` spanning the sampled range (empty buckets inside it kept, with
        probability 0).
    """
    if n <= 0 or bucket <= 0:
        raise ValueError("macs_histogram needs n > 0 and bucket > 0")
    rng = random.Random(seed)
    macs = [space.cost(space.sample(rng)).macs for _ in range(n)]
    shift = 0.5 if centered else 0.0
    lo = math.floor(min(macs) / bucket + shift)
    hi = math.floor(max(macs) / bucket + shift)
    counts = [0] * (hi - lo + 1)
    for m in macs:
        counts[math.floor(m / bucket + shift) - lo] += 1
    edges = tuple((i - shift) * bucket for i in range(lo, hi + 2))
    return MacsHistogram(edges=edges, probs=tuple(c / n for c in counts),
                         counts=tuple(counts), n=n)


def sample_in_macs_range(space: SearchSpace, rng: random.Random, low: float, high: float,
                         max_tries: int = 1000) -> Arch:
    """Rejection-sample a uniform arch of ``space`` with ``low <= MACs < high``.

    After ``max_tries`` proposals without a hit, the proposal closest to the range is
    returned (the official sampler likewise accepts its last proposal), so the call always
    returns an arch; check its cost when the range may be empty.
    """
    if max_tries <= 0:
        raise ValueError("max_tries must be positive")
    best: Arch | None = None
    best_gap = math.inf
    for _ in range(max_tries):
        arch = space.sample(rng)
        m = space.cost(arch).macs
        if low <= m < high:
            return arch
        gap = low - m if m < low else m - high
        if gap < best_gap:
            best, best_gap = arch, gap
    assert best is not None
    return best


def macs_quantile(space: SearchSpace, q: float, n: int = 2000, seed: int = 0) -> int:
    """The ``q`` quantile of the MACs of ``n`` uniform random archs (``random.Random(seed)``):
    how SPOS and FBNetV3 place a paper's MACs limit in a scaled-down space."""
    rng = random.Random(seed)
    macs = sorted(space.cost(space.sample(rng)).macs for _ in range(n))
    return int(macs[min(len(macs) - 1, int(q * len(macs)))])


def sample_under_macs(space: SearchSpace, rng: random.Random, limit: float,
                      max_tries: int = 100_000) -> Arch | None:
    """The first uniform arch of ``space`` drawn from ``rng`` with MACs <= ``limit``
    (``None`` after ``max_tries`` proposals: let the caller say which limit to raise)."""
    for _ in range(max_tries):
        arch = space.sample(rng)
        if space.cost(arch).macs <= limit:
            return arch
    return None


def stratified_archs(space: SearchSpace, prior: MacsHistogram, n: int, seed: int,
                     max_tries: int = 1000) -> list[Arch]:
    """``n`` distinct archs spread over the MACs range of ``prior`` (seeded).

    Each arch comes from a bucket drawn uniformly among the prior's non-empty buckets (not
    weighted by p(MACs), so the cheap and dear ends are covered too), then
    :func:`sample_in_macs_range` inside it. Duplicates (same ``space.arch_id``) are redrawn,
    at most ``10 * n`` draws in all.
    """
    if n < 0:
        raise ValueError("n must be >= 0")
    rng = random.Random(seed)
    buckets = [i for i, c in enumerate(prior.counts) if c > 0]
    out: list[Arch] = []
    seen: set[str] = set()
    for _ in range(10 * n):
        if len(out) == n:
            break
        i = rng.choice(buckets)
        arch = sample_in_macs_range(space, rng, prior.edges[i], prior.edges[i + 1], max_tries)
        aid = space.arch_id(arch)
        if aid not in seen:
            seen.add(aid)
            out.append(space.validate(arch))
    return out
