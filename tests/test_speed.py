"""Speed workloads (issue 15): every workload builds and steps on the tiny profile, the FLOP
count handles grouped convs, and ``bench/gpu.py --quick`` prints its table and CSV. No timing
is asserted."""

from __future__ import annotations

import csv
import shutil
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
    with out.open() as fh:
        rows = list(csv.DictReader(fh))
    assert {r["workload"] for r in rows} == {"darts_eval", "spos_supernet"}
    assert all(r["step_ms"] and not r["error"] for r in rows)
    assert {r["variant"] for r in rows} >= {"eager fp32", "channels_last"}


def _bench_gpu_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_gpu", REPO / "bench" / "gpu.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_compiled_rows_are_the_recipe_keys_each_workload_needs() -> None:
    """--compile: whole networks for static graphs, blocks for single-path / elastic supernets,
    CUDA graphs (reduce-overhead) only on CUDA; --compiled-only keeps eager as the base."""
    bench = _bench_gpu_module()
    spos = bench.variants("spos_supernet", "cuda", amp=False, compile_=True)
    assert {(v.compile, v.compile_mode) for v in spos if v.compile != "none"} == {
        ("blocks", "default"), ("blocks", "reduce-overhead")}
    dart = bench.variants("darts_eval", "cpu", amp=False, compile_=True)
    assert {(v.compile, v.compile_mode) for v in dart if v.compile != "none"} == {
        ("network", "default")}
    only = bench.variants("darts_search", "cuda", False, True, compiled_only=True)
    assert only[0] == Variant() and all(v.compile == "network" for v in only[1:])
    assert len(only) == 5  # compile and fused + compile, each in two modes
    assert all(v.compile == "none" for v in bench.variants("sandwich", "cuda", True, False))
    assert bench.warmup_steps(spos[-1], 2) == 22


def test_a_compiled_run_keeps_the_eager_table() -> None:
    bench = _bench_gpu_module()
    assert bench.default_csv("cuda:0", False) == Path("results/bench/gpu_cuda0.csv")
    assert bench.default_csv("cuda:0", True) == Path("results/bench/gpu_cuda0_compile.csv")


def test_a_benchmark_row_leaves_dynamo_as_it_found_it() -> None:
    """``compile: blocks`` raises dynamo's recompile limits for the process; a bench row (in
    ``fast.compile_state_restored``) puts them back, so the next row compiles as a fresh job."""
    import torch._dynamo.config as dynamo_config

    from nasrepro.spaces import get_space
    from nasrepro.training import fast

    before = (dynamo_config.recompile_limit, dynamo_config.accumulated_recompile_limit)
    with fast.compile_state_restored():
        fast.prepare(get_space("spos/tiny").build_supernet(), compile="blocks")
        assert dynamo_config.recompile_limit >= fast.BLOCK_RECOMPILE_LIMIT
    assert (dynamo_config.recompile_limit, dynamo_config.accumulated_recompile_limit) == before


def test_gpu_session_script_parses_and_explains_its_use() -> None:
    script = REPO / "bench" / "gpu_session.sh"
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
    proc = subprocess.run(["bash", str(script)], capture_output=True, text=True)
    assert proc.returncode == 2 and "prepare | run OUTDIR" in proc.stderr


def test_gpu_session_stops_at_once_without_snakemake_or_wheels(tmp_path: Path) -> None:
    """On a node without Snakemake and without prepared wheels, `run` spends no device time:
    exit 2 with the fix (prepare and carry .gpu) before any step runs."""
    (tmp_path / "bench").mkdir()
    shutil.copy(REPO / "bench" / "gpu_session.sh", tmp_path / "bench")
    (tmp_path / "snakemake.py").write_text("raise ImportError('not on this node')\n")
    out = tmp_path / "out"
    proc = subprocess.run(["bash", str(tmp_path / "bench" / "gpu_session.sh"), "run", str(out)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "no wheels" in proc.stderr and "prepare" in proc.stderr and ".gpu" in proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["steps.txt"]  # no step ran
