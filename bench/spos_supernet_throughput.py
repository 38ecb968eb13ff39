"""SPOS: supernet training throughput vs a plain standalone net of the same path.

Weight sharing should cost little: one step of the single-path supernet (slicing, a sampled
path per step) vs one step of the standalone network built for that same path. Prints
images/s for each preset and the ratio. Usage: python bench/spos_supernet_throughput.py
[--preset spos/small] [--batch 128] [--threads 2] [--steps 10]
"""

from __future__ import annotations

import argparse
import random

import torch
from _common import fake_batch, timeit

from nasrepro.spaces import get_space


def step_time(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, forward, steps: int
              ) -> float:
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    crit = torch.nn.CrossEntropyLoss()
    model.train()

    def one() -> None:
        opt.zero_grad(set_to_none=True)
        crit(forward(model, x), y).backward()
        opt.step()

    return timeit(one, repeat=steps)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="spos/small")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=10)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"# {args.preset}, batch {args.batch}, {args.threads} threads, median of "
          f"{args.steps} steps")
    print(f"{'supernet':14s} {'supernet img/s':>15s} {'standalone img/s':>17s} {'time ratio':>10s}")
    for name, flags in [("block", {}), ("block_channel", {"search_channels": True})]:
        space = get_space(args.preset, **flags)
        x, y = fake_batch(space.input_shape, args.batch)
        arch = space.sample(random.Random(0))
        supernet = space.build_supernet()
        standalone = space.build(arch)
        t_super = step_time(supernet, x, y, lambda m, xb, a=arch: m(xb, a), args.steps)
        t_alone = step_time(standalone, x, y, lambda m, xb: m(xb), args.steps)
        print(f"{name:14s} {args.batch / t_super:15.0f} {args.batch / t_alone:17.0f} "
              f"{t_super / t_alone:10.2f}")


if __name__ == "__main__":
    main()
