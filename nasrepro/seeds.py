"""Named seed streams: one integer seed per (run seed, purpose, index) from a stable hash.

Arms compared within a run seed share exactly the streams they should (data order,
augmentation, initialisation, evaluation noise) and nothing else; a stream never depends on
how many random numbers another stream drew before it (``../shared/STYLE.md``).
"""

from __future__ import annotations

from nasrepro.io import stable_hash

__all__ = ["child_seed"]


def child_seed(seed: int, *names: object) -> int:
    """A 60-bit seed derived from ``seed`` and the stream's ``names`` (stable across runs and
    machines: sha256 of their JSON)."""
    return int(stable_hash([int(seed), *names], 15), 16)
