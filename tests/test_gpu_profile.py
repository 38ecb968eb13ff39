"""The shared-GPU workflow profile (issue 15): every job that asks for the GPU takes
``gpu_slots``, no CPU job does, and the profile caps the slots (dry run of the cifar10 DAG)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
PROFILE = REPO / "workflow" / "profiles" / "gpu"


def test_gpu_profile_gives_every_gpu_job_slots(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "--forceall", "--nolock",
         "--workflow-profile", str(PROFILE), "--config", "profile=cifar10",
         f"results_dir={tmp_path}/results", f"paper_dir={tmp_path}/paper"],
        cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rule, seen, memory = None, {}, {}
    for line in proc.stdout.splitlines():
        if line.startswith(("rule ", "localrule ")):
            rule = line.split()[1].rstrip(":")
        elif line.strip().startswith("resources:") and rule:
            res = dict(kv.split("=", 1) for kv in line.split(":", 1)[1].replace(" ", "").split(",")
                       if "=" in kv)
            seen[rule] = (res.get("gpu"), res.get("gpu_slots"))
            memory[rule] = (res.get("mem_mb"), res.get("runtime"))
    gpu_rules = {r for r, (gpu, _) in seen.items() if gpu == "1"}
    assert gpu_rules, "the cifar10 profile should have GPU jobs"
    assert all(seen[r][1] in ("1", "2") for r in gpu_rules), seen
    assert all(slots is None for r, (gpu, slots) in seen.items() if r not in gpu_rules), seen
    config = yaml.safe_load((PROFILE / "config.yaml").read_text())
    assert config["resources"] == ["gpu_slots=4"]
    assert {r for r, res in config["set-resources"].items() if "gpu_slots" in res} == gpu_rules
    # memory and runtime come from the workflow profile (no rule hard-codes them)
    assert memory["spos_train_supernet"] == ("4000", "600")
    assert memory["tables"] == ("2000", "10")
    for smk in (REPO / "workflow" / "rules").glob("*.smk"):
        assert "mem_mb" not in smk.read_text() and "runtime=" not in smk.read_text(), smk
