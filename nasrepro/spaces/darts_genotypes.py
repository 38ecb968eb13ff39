"""Reference cells of the DARTS/SNAS space, copied as data from the official repositories.

* ``DARTS_V2`` (second order, DARTS Table 1, CIFAR-10) and ``DARTS_V1``: quark0/darts
  ``cnn/genotypes.py``. ``DARTS_V1`` is **not** the paper's first-order cell: the repository's
  history shows it was released first as ``DARTS``, with instructions to search with
  ``--unrolled`` (second order), and renamed ``DARTS_V1`` when ``DARTS_V2`` was added; it is
  the second-order cell of the first arXiv version. The final paper's first-order cell (3.3 M)
  was never released, so no reference arch here stands for "DARTS (first order)".
* ``SNAS_mild_edge_all``, ``SNAS_moderate_edge_all``, ``SNAS_aggressive_edge_all``:
  SNAS-Series ``SNAS/genotypes.py``, the child networks evaluated by
  ``SNAS/train_edge_all.py`` (SNAS Table 1 and Fig. 13-15). They list every one of the 14
  edges of a cell (``i + 2`` (op, input) pairs for node ``i``, in the order the official
  ``genotype_edge_all`` sorted them); edges whose op is ``'none'`` vanish from the child
  network.

Measured on preset ``darts/cifar10-eval`` (C=36, 20 cells, auxiliary head excluded):
DARTS_V2 3,349,342 params / 528.4 M MACs (exactly the official ``param size = 3.349342MB``);
DARTS_V1 3,169,414 / 501.0 M (3.2 M; an earlier second-order cell, so the 3.3 M of the
paper's first-order row does not apply to it). With SNAS's BN after pools (``pool_bn=True``,
as SNAS ``operations.py``):
mild 2,663,542 / 422.2 M (2.7 M; SNAS Table 1 says 2.9 M for the mild model, whose released
cell this is: the README's 97.02 % matches the paper's 2.98 % error), moderate 2,848,222 /
440.7 M (2.8 M, as published), aggressive 2,313,622 / 374.9 M (2.3 M, as published).

``GENOTYPES`` keeps the official tuples; ``REFERENCE_ARCHS`` holds the canonical arch form of
space ``darts`` (``{"normal": [[op, from, to], ...], "reduce": [...]}``, 'none' edges dropped,
sorted by (to, from)). ``PUBLISHED_PARAMS`` are the parameter counts the papers report for
the CIFAR-10 evaluation network (C=36, 20 cells, auxiliary head excluded).
"""

from __future__ import annotations

from typing import Any

__all__ = ["GENOTYPES", "PUBLISHED_PARAMS", "REFERENCE_ARCHS", "genotype_to_edges"]

_RANGE_2_6 = [2, 3, 4, 5]

GENOTYPES: dict[str, dict[str, Any]] = {
    "DARTS_V1": {
        "normal": [("sep_conv_3x3", 1), ("sep_conv_3x3", 0), ("skip_connect", 0),
                   ("sep_conv_3x3", 1), ("skip_connect", 0), ("sep_conv_3x3", 1),
                   ("sep_conv_3x3", 0), ("skip_connect", 2)],
        "normal_concat": _RANGE_2_6,
        "reduce": [("max_pool_3x3", 0), ("max_pool_3x3", 1), ("skip_connect", 2),
                   ("max_pool_3x3", 0), ("max_pool_3x3", 0), ("skip_connect", 2),
                   ("skip_connect", 2), ("avg_pool_3x3", 0)],
        "reduce_concat": _RANGE_2_6,
    },
    "DARTS_V2": {
        "normal": [("sep_conv_3x3", 0), ("sep_conv_3x3", 1), ("sep_conv_3x3", 0),
                   ("sep_conv_3x3", 1), ("sep_conv_3x3", 1), ("skip_connect", 0),
                   ("skip_connect", 0), ("dil_conv_3x3", 2)],
        "normal_concat": _RANGE_2_6,
        "reduce": [("max_pool_3x3", 0), ("max_pool_3x3", 1), ("skip_connect", 2),
                   ("max_pool_3x3", 1), ("max_pool_3x3", 0), ("skip_connect", 2),
                   ("skip_connect", 2), ("max_pool_3x3", 1)],
        "reduce_concat": _RANGE_2_6,
    },
    "SNAS_mild_edge_all": {
        "normal": [("sep_conv_3x3", 0), ("sep_conv_3x3", 1),
                   ("skip_connect", 0), ("dil_conv_3x3", 1), ("none", 2),
                   ("skip_connect", 0), ("skip_connect", 1), ("none", 3), ("none", 2),
                   ("skip_connect", 0), ("sep_conv_3x3", 1), ("none", 4), ("none", 3),
                   ("none", 2)],
        "normal_concat": _RANGE_2_6,
        "reduce": [("max_pool_3x3", 0), ("max_pool_3x3", 1),
                   ("none", 0), ("max_pool_3x3", 1), ("skip_connect", 2),
                   ("none", 0), ("max_pool_3x3", 1), ("skip_connect", 2), ("none", 3),
                   ("max_pool_3x3", 0), ("dil_conv_5x5", 2), ("none", 1), ("none", 3),
                   ("none", 4)],
        "reduce_concat": _RANGE_2_6,
    },
    "SNAS_moderate_edge_all": {
        "normal": [("dil_conv_5x5", 0), ("skip_connect", 1),
                   ("sep_conv_3x3", 0), ("skip_connect", 1), ("none", 2),
                   ("skip_connect", 0), ("none", 3), ("none", 2), ("skip_connect", 1),
                   ("sep_conv_3x3", 0), ("dil_conv_5x5", 1), ("none", 4), ("none", 3),
                   ("none", 2)],
        "normal_concat": _RANGE_2_6,
        "reduce": [("max_pool_3x3", 0), ("max_pool_3x3", 1),
                   ("sep_conv_5x5", 0), ("none", 2), ("dil_conv_5x5", 1),
                   ("none", 3), ("none", 2), ("sep_conv_5x5", 0), ("sep_conv_5x5", 1),
                   ("none", 4), ("none", 3), ("none", 2), ("sep_conv_5x5", 0),
                   ("sep_conv_5x5", 1)],
        "reduce_concat": _RANGE_2_6,
    },
    "SNAS_aggressive_edge_all": {
        "normal": [("sep_conv_5x5", 0), ("skip_connect", 1),
                   ("skip_connect", 0), ("skip_connect", 1), ("none", 2),
                   ("dil_conv_5x5", 1), ("skip_connect", 0), ("none", 2), ("none", 3),
                   ("skip_connect", 0), ("dil_conv_5x5", 1), ("none", 2), ("none", 3),
                   ("none", 4)],
        "normal_concat": _RANGE_2_6,
        "reduce": [("sep_conv_5x5", 0), ("none", 1),
                   ("sep_conv_5x5", 0), ("none", 1), ("none", 2),
                   ("none", 0), ("none", 1), ("none", 2), ("none", 3),
                   ("none", 0), ("none", 1), ("none", 2), ("none", 3), ("none", 4)],
        "reduce_concat": _RANGE_2_6,
    },
}


def genotype_to_edges(pairs: list[tuple[str, int]], steps: int = 4) -> list[list[Any]]:
    """Official (op, input) pairs -> sorted ``[[op, from, to], ...]`` without 'none'.

    Pairs are grouped per node as the official cells do: 2 per node (``model.py``, DARTS) or
    ``i + 2`` for node ``i`` (``model_edge_all.py``, SNAS edge_all).
    """
    if len(pairs) == 2 * steps:
        sizes = [2] * steps
    else:
        sizes = [i + 2 for i in range(steps)]
    edges, start = [], 0
    for i, size in enumerate(sizes):
        for op, src in pairs[start:start + size]:
            if op != "none":
                edges.append([op, int(src), i + 2])
        start += size
    return sorted(edges, key=lambda e: (e[2], e[1]))


REFERENCE_ARCHS: dict[str, dict[str, list[list[Any]]]] = {
    name: {kind: genotype_to_edges(g[kind]) for kind in ("normal", "reduce")}
    for name, g in GENOTYPES.items()
}

#: published parameter counts (CIFAR-10 evaluation net, auxiliary head excluded): ``params``
#: is the exact count when the official code's printout is known, ``params_m`` the paper's
#: rounded millions; ``source`` says where it comes from
PUBLISHED_PARAMS: dict[str, dict[str, Any]] = {
    "DARTS_V1": {"params_m": None,
                 "source": "none: the first arXiv version's second-order cell (released as "
                           "'DARTS', later renamed); the paper's first-order cell (3.3M) was "
                           "never released"},
    "DARTS_V2": {"params": 3_349_342, "params_m": 3.3,
                 "source": "DARTS Table 1 (second order); official train.py log "
                           "'param size = 3.349342MB'"},
    "SNAS_mild_edge_all": {"params_m": 2.9, "source": "SNAS Table 1 (mild constraint)"},
    "SNAS_moderate_edge_all": {"params_m": 2.8, "source": "SNAS Table 1 (moderate constraint)"},
    "SNAS_aggressive_edge_all": {"params_m": 2.3,
                                 "source": "SNAS Table 1 (aggressive constraint)"},
}
