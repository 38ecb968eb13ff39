"""bench/job_seconds.py (issue 12): job-seconds per paper/rule from benchmark files and per
claim through the provenance chain (a retrain -> its search -> its supernet)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parent.parent


def _module():
    spec = importlib.util.spec_from_file_location("job_seconds", REPO / "bench" / "job_seconds.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _run(results: Path, rel: str, wall: float, command: str = "") -> None:
    d = results / rel
    d.mkdir(parents=True)
    (d / "provenance.json").write_text(json.dumps({"wall_time_s": wall, "command": command}))


def test_rules_and_claims_add_up(tmp_path: Path) -> None:
    js = _module()
    results = tmp_path / "results" / "default"
    for rel, s in (("spos/train_supernet/block/uniform/seed0.tsv", 100.0),
                   ("spos/search/block/uniform/evolution/seed0.tsv", 20.0),
                   ("spos/retrain/x/seed0.tsv", 5.0), ("spos/retrain/x/seed1.tsv", 7.0),
                   ("spos/inherit.tsv", 2.0), ("claims.tsv", 1.0)):
        f = results / "benchmarks" / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(f"s\th:m:s\n{s}\t0:00:01\n")
    rules = js.rule_seconds(results)
    by_rule = dict(zip(rules["rule"], rules["job_seconds"], strict=True))
    assert by_rule == {"spos/train_supernet": 100.0, "spos/search": 20.0, "spos/retrain": 12.0,
                       "spos/inherit": 2.0, "claims": 1.0}
    assert set(rules.loc[rules["rule"] == "claims", "paper"]) == {"shared"}

    sup, search = ("spos/train_supernet/block/uniform/seed0",
                   "spos/search/block/uniform/evolution/seed0")
    _run(results, sup, 90.0, "nasrepro train-supernet --out " + str(results / sup))
    _run(results, search, 15.0,
         f"nasrepro search --input supernet={results / sup} --out {results / search}")
    for i, wall in enumerate((4.0, 6.0)):
        _run(results, f"spos/retrain/r/seed{i}", wall,
             f"nasrepro retrain --input search={results / search}")
    _run(results, "spos/retrain/fixed/seed0", 3.0, "nasrepro retrain")
    (results / "tables").mkdir()
    pd.DataFrame([
        {"id": "S1", "verdict": "reproduced", "n": 2,
         "run_dirs": "spos/retrain/r/seed0;spos/retrain/r/seed1"},
        {"id": "S2", "verdict": "underpowered", "n": 1, "run_dirs": "spos/retrain/fixed/seed0"},
        {"id": "S3", "verdict": "not run", "n": 0, "run_dirs": float("nan")},
    ]).to_csv(results / "tables" / "claims.csv", index=False)
    per_claim = js.claim_seconds(results).set_index("id")
    # S1: both retrains + the search + the supernet, each once
    assert per_claim.loc["S1", "job_seconds"] == 4.0 + 6.0 + 15.0 + 90.0
    assert per_claim.loc["S1", "run_dirs"] == 4
    assert per_claim.loc["S2", "job_seconds"] == 3.0
    assert per_claim.loc["S3", "job_seconds"] == 0.0
