"""Speed workloads (issue 15): every workload builds and steps on the tiny profile, the FLOP
count handles grouped convs, and ``bench/gpu.py --quick`` prints its table and CSV. No timing
is asserted."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from nasrepro.config import load_config
from nasrepro.metrics.cost import step_flops
from nasrepro.speed import WORKLOADS, Variant, build_workload, time_steps

REPO = Path(__file__).resolve().parent.parent


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_step_flops_grouped_conv_backward() -> None:
    """Depthwise conv: backward = grad_input + grad_weight = 2x forward (PyTorch's own
    formula ignores groups)."""
    x = torch.randn(2, 4, 8, 8, requires_grad=True)
    w = torch.randn(4, 1, 3, 3, requires_grad=True)
    forward = 2 * 2 * 8 * 8 * 4 * 9  # 2 FLOPs per MAC
    assert step_flops(lambda: F.conv2d(x, w, padding=1, groups=4)) == forward
    assert step_flops(lambda: F.conv2d(x, w, padding=1, groups=4).sum().backward()) == 3 * forward


@pytest.mark.parametrize("name", list(WORKLOADS))
def test_every_workload_steps_on_tiny(name: str) -> None:
    config = load_config("tiny")
    w = build_workload(name, config, batch=8)
    before = [p.detach().clone() for p in w.model.parameters()]
    times = time_steps(w.run, steps=1, warmup=0, device="cpu")
    assert len(times) == 1 and times[0] > 0
    assert any(not torch.equal(a, p) for a, p in zip(before, w.model.parameters(), strict=True))
    assert w.batch == 8 and "batch 8" in w.what


def test_fused_variant_only_where_it_applies() -> None:
    config = load_config("tiny")
    w = build_workload("darts_search", config, variant=Variant("f", fused=True), batch=4)
    assert w.model.fused
    w = build_workload("darts_eval", config, variant=Variant("f", fused=True), batch=4)
    assert not w.variant.fused


def test_bench_gpu_quick_prints_table_and_csv(tmp_path: Path) -> None:
    out = tmp_path / "bench.csv"
    proc = subprocess.run(
        [sys.executable, "bench/gpu.py", "--quick", "--device", "cpu", "--threads", "1",
         "--workloads", "darts_eval,spos_supernet", "--steps", "1", "--warmup", "0",
         "--csv", str(out)], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "floor_ms" in proc.stdout and "darts_eval" in proc.stdout
    rows = list(csv.DictReader(out.open()))
    assert {r["workload"] for r in rows} == {"darts_eval", "spos_supernet"}
    assert all(r["step_ms"] and not r["error"] for r in rows)
    assert {r["variant"] for r in rows} >= {"eager fp32", "channels_last"}
