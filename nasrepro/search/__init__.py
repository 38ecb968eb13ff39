"""Architecture search on a trained supernet: random search and SPOS evolution (Algorithm 1).

Searchers take a search space and a batched ``evaluate`` callback (archs -> fitness, higher is
better) and return a :class:`SearchResult` (every evaluated candidate, the search curve, the
best entry), written to ``archs.jsonl``, ``curve.csv`` and ``best.json`` by
:func:`write_search_outputs`.
"""

from nasrepro.search.evolution import (
    Select,
    evolution_search,
    n_evaluations_of,
    select_top_k,
)
from nasrepro.search.random_search import CandidateBook, random_search
from nasrepro.search.result import (
    Evaluate,
    SearchResult,
    read_search_outputs,
    write_search_outputs,
)

__all__ = [
    "CandidateBook",
    "Evaluate",
    "SearchResult",
    "Select",
    "evolution_search",
    "n_evaluations_of",
    "random_search",
    "read_search_outputs",
    "select_top_k",
    "write_search_outputs",
]
