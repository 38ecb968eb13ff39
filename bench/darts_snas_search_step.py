"""SNAS vs DARTS: search step time and peak memory at the official search config.

DARTS Sec. 3.1 / SNAS Sec. 3: search network C=16, 8 cells, batch 64, 32x32 inputs. Times one
full step (architecture step + weight step, as :func:`nasrepro.training.train` runs it) of
``darts-1st``, ``darts-2nd`` and ``snas`` (at temperature 1 and, ``snas-cold``, at the final 0.03,
where most Gumbel-softmax weights underflow to exactly 0) on the ``darts/cifar10-search``
supernet, and the same
steps with a plain reference mixed op that computes every op, 'none' included, whatever its
weight (the official ``sum(w * op(x) for w, op in zip(weights, self._ops))``), so the ratio
shows what skipping zero-weight ops and 'none' saves. Peak memory: CUDA max allocated, or the
peak resident set of a fresh process per measurement on CPU.

Usage: python bench/darts_snas_search_step.py [--device cpu|cuda] [--steps 3] [--threads 2]
[--preset darts/cifar10-search] [--batch 64]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))


def _measure(method: str, reference: bool, args: dict[str, Any]) -> dict[str, float]:
    import torch
    from _common import fake_batch, timeit

    from nasrepro.samplers.darts_search import DartsStep, SnasStep, snas_cost_table
    from nasrepro.samplers.relaxation import ArchParameters
    from nasrepro.spaces import get_space
    from nasrepro.supernets import darts as sn
    from nasrepro.training.config import TrainConfig
    from nasrepro.training.loop import StepContext, build_optimizer

    torch.set_num_threads(args["threads"])
    if reference:  # every op on every edge, 'none' included, whatever its weight
        sn.DartsSupernet.active_ops = staticmethod(
            lambda w: [list(range(w.shape[1])) for _ in range(w.shape[0])])
    device = args["device"]
    space = get_space(args["preset"])
    model = space.build_supernet(torch.Generator().manual_seed(0)).to(device)
    snas = method.startswith("snas")
    arch = ArchParameters(space.num_edges, 8, init="snas" if snas else "darts",
                          generator=torch.Generator().manual_seed(0)).to(device)
    if snas:
        step = SnasStep(arch, epochs=1, penalty_lambda=1e-2, edge_costs=snas_cost_table(space))
        if method == "snas-cold":  # the end of the annealing: most sampled weights are 0.0
            step.temperature = 0.03
    else:
        step = DartsStep(arch, order=2 if method == "darts-2nd" else 1)
    cfg = TrainConfig(epochs=1, batch_size=args["batch"], lr=0.025, weight_decay=3e-4,
                      grad_clip=5.0, no_wd_bn_bias=False)
    opt = build_optimizer(step.parameters_to_optimize(model), cfg)
    x, y = fake_batch(space.input_shape, args["batch"])
    xv, yv = fake_batch(space.input_shape, args["batch"], seed=1)
    x, y, xv, yv = x.to(device), y.to(device), xv.to(device), yv.to(device)
    data = SimpleNamespace(val_x=xv, val_y=yv)
    ctx = StepContext(criterion=torch.nn.CrossEntropyLoss(), epoch=0, step=0, total_steps=1,
                      steps_per_epoch=1, optimizer=opt, lr=0.025, data=data,
                      generator=torch.Generator().manual_seed(0), cfg=cfg)

    def one() -> None:
        step(model, x, y, ctx)
        torch.nn.utils.clip_grad_norm_(step.parameters_to_optimize(model), 5.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        if device.startswith("cuda"):
            torch.cuda.synchronize()

    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    seconds = timeit(one, repeat=args["steps"], warmup=1)
    if device.startswith("cuda"):
        peak_mb = torch.cuda.max_memory_allocated() / 2**20
    else:
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"step_s": seconds, "peak_mb": peak_mb}


def _child(method: str, reference: bool, args: dict, queue: Any) -> None:
    queue.put(_measure(method, reference, args))


def measure(method: str, reference: bool, args: dict) -> dict[str, float]:
    """One measurement in a fresh process (clean peak memory, unpatched classes)."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(method, reference, args, queue))
    proc.start()
    out = queue.get()
    proc.join()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--preset", default="darts/cifar10-search")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--methods", default="darts-1st,darts-2nd,snas,snas-cold",
                        help="snas-cold: SNAS at the final temperature 0.03")
    args = vars(parser.parse_args())
    print(f"# {args['preset']}, batch {args['batch']}, device {args['device']}, "
          f"threads {args['threads']}, median of {args['steps']} steps")
    print(f"{'method':10s} {'step_s':>8s} {'ref_step_s':>10s} {'speedup':>8s} "
          f"{'peak_mb':>8s} {'ref_peak_mb':>11s}")
    rows = []
    for method in args["methods"].split(","):
        ours = measure(method, False, args)
        ref = measure(method, True, args)
        rows.append({"method": method, **ours, "ref_step_s": ref["step_s"],
                     "ref_peak_mb": ref["peak_mb"]})
        print(f"{method:10s} {ours['step_s']:8.3f} {ref['step_s']:10.3f} "
              f"{ref['step_s'] / ours['step_s']:8.2f} {ours['peak_mb']:8.0f} "
              f"{ref['peak_mb']:11.0f}", flush=True)
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
