"""Run every benchmark in bench/ and print their figures (never asserted in tests)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

SCRIPTS = [
    "spos_supernet_throughput.py", "spos_candidate_eval.py", "spos_dag_walltime.py",
    "darts_snas_search_step.py", "attentivenas_speed.py", "fbnetv3_search_speed.py",
]
for script in SCRIPTS:
    print(f"\n== {script}", flush=True)
    subprocess.run([sys.executable, str(HERE / script)], cwd=HERE.parent, check=False)
