"""Which seeds each FBNetV3 retrain role runs (FBNetV3 Sec. 4.2-4.3, the recipe swap and the
AutoTrain comparison; issue 12). Torch-free, so the workflow's DAG helpers, the experiment and
the tables read one definition.

``fbnetv3.retrain_seeds`` (else the profile's ``seeds``) replicate the recipe-swap roles
(``swap/...``: claim F1, the cheapest decidable replicates); ``fbnetv3.display_retrain_seeds``
(else ``retrain_seeds``) run the AutoTrain and arch-only roles (claims F2 and F5, which no
affordable n decides at the default scale): the tables keep every row, each with its n.
"""

from __future__ import annotations

from nasrepro.config import seeds_of


def role_retrain_seeds(config: dict, role: str) -> list[int]:
    """Training seeds of the retrain runs of ``role`` (run i uses seed i)."""
    if role.startswith("swap/"):
        return seeds_of(config, "fbnetv3", "retrain_seeds")
    return seeds_of(config, "fbnetv3", "display_retrain_seeds", "retrain_seeds")


def role_seeds_key(role: str) -> str:
    """Where :func:`role_retrain_seeds` of ``role`` come from, for messages."""
    return ("fbnetv3.retrain_seeds" if role.startswith("swap/")
            else "fbnetv3.display_retrain_seeds (else fbnetv3.retrain_seeds)")
