"""Paper-scale speed on one device (issue 15): eager fp32 vs each fast path, and the floor.

For each workload of issue 15's table, on the networks and batch sizes of a profile
(default ``cifar10``: DARTS first-order search step C=16 / 8 cells / batch 64 on
``darts/cifar10-search``; SPOS supernet training on ``spos/cifar10`` at batch 256;
AttentiveNAS sandwich step at batch 256; DARTS evaluation net C=36 / 20 cells at batch 96),
prints the step time and images/s of the pipeline's eager fp32 step and of each fast path,
the speedup over eager, the step's FLOPs (``nasrepro.metrics.cost.step_flops``: forward and
backward convs and matmuls) and the compute floor ``FLOPs / measured matmul FLOP/s`` (fp32
matmul, TF32 when allowed; bf16 matmul for the AMP rows), then writes the rows to a CSV.
The steps are built by ``nasrepro.speed`` from the library (the DAG's step strategies,
samplers, recipes); timing: CUDA events after a warm-up on a GPU, ``time.perf_counter``
on CPU; the median step is reported.

Fast paths measured (never defaults of the pipeline; each row is what a profile gets with the
key of the same name): ``fused`` (DARTS search cell's mixed ops in grouped kernels, space
setting ``fused: true``), the recipe keys ``channels_last``, ``amp: bf16`` (CUDA; ``--amp``
adds it on CPU) and, with ``--compile``, ``compile: network`` (DARTS search and evaluation
nets) or ``compile: blocks`` (SPOS supernet, sandwich), each also with ``compile_mode:
reduce-overhead`` (CUDA graphs) on CUDA; compiled rows warm up longer. A variant that fails
(out of memory, no compiler) prints its error as its row. ``--budget-s`` (default 270 s)
skips what would not fit, so a full run on one GPU ends within 5 minutes.

Usage: python bench/gpu.py [--device cpu|cuda] [--quick] [--profile cifar10] [--steps 5]
[--warmup 2] [--workloads darts_search,spos_supernet,sandwich,darts_eval] [--amp] [--compile]
[--compiled-only] [--threads 2] [--csv results/bench/gpu_<device>.csv]

The default CSV of a run with compiled rows is ``gpu_<device>_compile.csv`` (the eager run's
table stays). Each row compiles as in a fresh process (dynamo's caches and limits reset).

``--quick``: the ``tiny`` profile's networks and batches, 2 steps after 1 warm-up (well
under a minute on a 2-core CPU). On a GPU node without the package installed:
``PYTHONPATH=$PWD python bench/gpu.py --device cuda``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import gc
import sys
import time
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nasrepro.config import load_config  # noqa: E402
from nasrepro.io import device_info, git_commit  # noqa: E402
from nasrepro.metrics.cost import step_flops  # noqa: E402
from nasrepro.speed import Variant, build_workload, matmul_rate, sync, time_steps  # noqa: E402
from nasrepro.training import fast  # noqa: E402

#: the workloads of issue 15's table, in its order
TABLE = ("darts_search", "spos_supernet", "sandwich", "darts_eval")
#: issue 15's H200 figures today (2026-11-30) and its targets, for the last column
ISSUE = {
    "darts_search": "today 0.867 s/step; target <= 0.1 s",
    "spos_supernet": "today 7,968 img/s; target >= 40k img/s",
    "sandwich": "today 1.1-2.3 it/s (GPU shared); target >= 5x",
    "darts_eval": "today 5.2 it/s (GPU shared); target >= 3x",
}
FIELDS = ["date", "device", "device_name", "torch", "commit", "profile", "workload", "what",
          "variant", "batch", "steps", "step_ms", "img_s", "speedup", "gflop_step", "floor_ms",
          "floor_frac", "peak_mb", "error", "issue"]


def variants(workload: str, device: str, amp: bool, compile_: bool,
             compiled_only: bool = False) -> list[Variant]:
    """Eager fp32 first, then the fast paths that apply to ``workload`` on ``device``.

    Compiled rows (``--compile``): the whole network where a step runs one static graph (the
    DARTS softmax search step, standalone networks), its blocks where every step runs another
    path (SPOS supernet, elastic MobileNet); on CUDA each also with ``reduce-overhead`` (CUDA
    graphs). SNAS's compiled step specialises per sampled pattern of running ops.
    """
    if compiled_only:  # eager fp32 (the speedups' base) and the compiled rows
        return [v for v in variants(workload, device, amp, True)
                if v.compile != "none" or v.name == "eager fp32"]
    cuda = device.startswith("cuda")
    modes = ["default", "reduce-overhead"] if cuda else ["default"]
    tag = {"default": "", "reduce-overhead": " (reduce-overhead)"}
    out = [Variant()]
    if workload.startswith(("darts_search", "snas")):
        out.append(Variant("fused", fused=True))
        out.append(Variant("fused + channels_last", fused=True, channels_last=True))
        if cuda or amp:
            out.append(Variant("fused + bf16", fused=True, amp="bf16"))
        if compile_:
            for mode in modes:
                out.append(Variant(f"compile{tag[mode]}", compile="network", compile_mode=mode))
                out.append(Variant(f"fused + compile{tag[mode]}", fused=True, compile="network",
                                   compile_mode=mode))
        return out
    out.append(Variant("channels_last", channels_last=True))
    if cuda or amp:
        out.append(Variant("bf16", amp="bf16"))
        out.append(Variant("bf16 + channels_last", amp="bf16", channels_last=True))
    if compile_:
        what = "blocks" if workload in ("spos_supernet", "sandwich") else "network"
        for mode in modes:
            out.append(Variant(f"compile {what}{tag[mode]}", compile=what, compile_mode=mode))
    return out


def warmup_steps(variant: Variant, base: int) -> int:
    """Untimed steps before timing: compiled networks compile in their first steps, compiled
    blocks whenever a path takes a block choice not seen yet (20 steps of 20 uniform layers
    see nearly every choice of a SPOS supernet)."""
    return base + {"none": 0, "network": 3, "blocks": 20}[variant.compile]


def measure(name: str, config: dict, variant: Variant, args: argparse.Namespace,
            rates: dict[str, float], flops: int | None = None) -> dict:
    """One row: build, warm up, time, peak memory, and the FLOPs of a step (counted in one
    more step unless given: every variant of a workload computes the same convs and matmuls,
    and counting dispatches every op through Python, seconds per step)."""
    row: dict = {"workload": name, "variant": variant.name}
    device = args.device
    try:
        if device.startswith("cuda"):
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats(device)
        with fast.compile_state_restored():  # each row compiles as in a fresh process
            w = build_workload(name, config, device=device, variant=variant, batch=args.batch)
            times = sorted(time_steps(w.run, steps=args.steps,
                                      warmup=warmup_steps(variant, args.warmup), device=device))
            step_s = times[len(times) // 2]
            if flops is None and variant.compile == "none":
                flops = step_flops(w.run)
            sync(device)
        rate = rates["fp32" if variant.amp == "none" else "bf16"]
        row.update(what=w.what, batch=w.batch, steps=args.steps, step_ms=1000 * step_s,
                   img_s=w.batch / step_s)
        if flops:
            row["flops"] = flops
            row.update(gflop_step=flops / 1e9, floor_ms=1000 * flops / rate,
                       floor_frac=flops / rate / step_s)
        if device.startswith("cuda"):
            row["peak_mb"] = torch.cuda.max_memory_allocated(device) / 2**20
        del w
    except Exception as exc:  # a fast path that fails is a result too
        row["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}"
    gc.collect()
    return row


def _fmt(v: object, spec: str) -> str:
    return format(v, spec) if isinstance(v, int | float) else "-"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--profile", default=None, help="networks and batches (default cifar10)")
    ap.add_argument("--quick", action="store_true",
                    help="tiny profile, 2 steps after 1 warm-up (CPU smoke run)")
    ap.add_argument("--workloads", default=",".join(TABLE),
                    help=f"comma list of nasrepro.speed.WORKLOADS (default {','.join(TABLE)})")
    ap.add_argument("--steps", type=int, default=None, help="timed steps (default 5; quick 2)")
    ap.add_argument("--warmup", type=int, default=None, help="untimed steps (default 2; quick 1)")
    ap.add_argument("--batch", type=int, default=None, help="override every batch size")
    ap.add_argument("--amp", action="store_true", help="bf16 autocast rows on CPU too")
    ap.add_argument("--compile", action="store_true", help="torch.compile rows (slow warm-up)")
    ap.add_argument("--compiled-only", action="store_true",
                    help="only eager fp32 and the torch.compile rows")
    ap.add_argument("--cudnn-benchmark", action="store_true",
                    help="torch.backends.cudnn.benchmark (off: many shapes; see shared/gpu)")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    ap.add_argument("--budget-s", type=float, default=270.0,
                    help="skip the remaining rows once this many seconds have passed")
    ap.add_argument("--csv", default=None,
                    help="default results/bench/gpu_<device>.csv (_compile.csv: compiled rows)")
    args = ap.parse_args()
    profile = args.profile or ("tiny" if args.quick else "cifar10")
    args.steps = args.steps or (2 if args.quick else 5)
    args.warmup = args.warmup if args.warmup is not None else (1 if args.quick else 2)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.backends.cudnn.benchmark = bool(args.cudnn_benchmark)
    config = load_config(profile)
    start = time.perf_counter()
    info = device_info(args.device)
    device_name = info.get("gpu") or info["cpu_model"]
    rates = {"fp32": matmul_rate(args.device)}
    rates["bf16"] = (matmul_rate(args.device, torch.bfloat16)
                     if args.device.startswith("cuda") or args.amp else rates["fp32"])
    print(f"# {device_name} ({args.device}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads), profile {profile}, median of {args.steps} "
          f"steps after {args.warmup} warm-up; matmul {rates['fp32'] / 1e12:.2f} TFLOP/s fp32"
          + (f", {rates['bf16'] / 1e12:.2f} bf16" if rates["bf16"] != rates["fp32"] else ""))
    head = (f"{'workload':14s} {'variant':34s} {'batch':>5s} {'step_ms':>9s} {'img/s':>9s} "
            f"{'speedup':>7s} {'GFLOP':>8s} {'floor_ms':>9s} {'floor%':>6s}")
    print(head)
    base = {"date": dt.date.today().isoformat(), "device": args.device,
            "device_name": device_name, "torch": torch.__version__, "commit": git_commit(),
            "profile": profile}
    out = Path(args.csv or default_csv(args.device, args.compile or args.compiled_only))
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="") as fh:  # a row is written as soon as it is measured: a
        measure_all(args, config, rates, base, start, fh)  # run cut short keeps them
    print(f"# {time.perf_counter() - start:.0f} s; rows written to {out}")
    if profile == "cifar10":
        print("# issue 15 (H200, 2026-11-30): " + "; ".join(f"{k}: {v}" for k, v in
                                                              ISSUE.items()))


def default_csv(device: str, compiled: bool) -> Path:
    """``results/bench/gpu_<device>.csv``; ``gpu_<device>_compile.csv`` for a run with compiled
    rows, so that it does not overwrite the eager run's table."""
    return Path(f"results/bench/gpu_{device.replace(':', '')}{'_compile' if compiled else ''}"
                f".csv")


def measure_all(args: argparse.Namespace, config: dict, rates: dict[str, float], base: dict,
                start: float, fh: Any) -> None:
    """Every row of every workload, printed and written to ``fh`` as it is measured."""
    writer = csv.DictWriter(fh, fieldnames=FIELDS, extrasaction="ignore")
    writer.writeheader()
    profile = base["profile"]
    for name in [w.strip() for w in args.workloads.split(",") if w.strip()]:
        eager_ms = flops = None
        for variant in variants(name, args.device, args.amp, args.compile or args.compiled_only,
                                args.compiled_only):
            if time.perf_counter() - start > args.budget_s:
                row = {"workload": name, "variant": variant.name,
                       "error": f"skipped: over the {args.budget_s:.0f} s budget"}
            else:
                row = measure(name, config, variant, args, rates, flops)
                flops = flops or row.get("flops")
            if variant.name == "eager fp32":
                eager_ms = row.get("step_ms")
            if eager_ms and row.get("step_ms"):
                row["speedup"] = eager_ms / row["step_ms"]
            row = {**base, **row, "issue": ISSUE.get(name, "") if profile == "cifar10" else ""}
            writer.writerow(row)
            fh.flush()
            line = (f"{name:14s} {variant.name:34s} {_fmt(row.get('batch'), '5d')} "
                    f"{_fmt(row.get('step_ms'), '9.1f')} {_fmt(row.get('img_s'), '9.1f')} "
                    f"{_fmt(row.get('speedup'), '7.2f')} {_fmt(row.get('gflop_step'), '8.2f')} "
                    f"{_fmt(row.get('floor_ms'), '9.2f')} "
                    f"{_fmt(100 * row['floor_frac'] if row.get('floor_frac') else None, '6.1f')}")
            print(line + (f"  {row['error']}" if row.get("error") else ""), flush=True)


if __name__ == "__main__":
    main()
