"""SPOS: time to evaluate one candidate on the supernet (BN recalibration + validation).

Uses the default profile's search settings (recalibration batches/size, eval batch size) and
its validation-split size on random inputs of the preset's shape. Prints seconds per candidate
and candidates per minute. Usage: python bench/spos_candidate_eval.py [--profile default]
"""

from __future__ import annotations

import argparse
import random
import time

import torch
from _common import fake_batch

from nasrepro.config import load_config
from nasrepro.evaluation import evaluate_subnets
from nasrepro.spaces import get_space


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="default")
    ap.add_argument("--candidates", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cfg = load_config(args.profile)
    scfg = cfg["spos"]["search"]
    space = get_space(cfg["spos"]["preset"])
    n_val = cfg["data"]["val_size"]
    n_recalib = scfg["recalib_batches"] * scfg["recalib_batch_size"]
    train_x, _ = fake_batch(space.input_shape, max(n_recalib, 1), seed=1)
    val_x, val_y = fake_batch(space.input_shape, n_val, seed=2)
    supernet = space.build_supernet().eval()
    rng = random.Random(0)
    archs = [space.sample(rng) for _ in range(args.candidates)]
    evaluate_subnets(supernet, archs[:2], recalib_x=train_x, eval_x=val_x, eval_y=val_y,
                     recalib_batches=scfg["recalib_batches"],
                     batch_size=scfg["recalib_batch_size"],
                     eval_batch_size=scfg["eval_batch_size"])  # warm-up
    start = time.perf_counter()
    evaluate_subnets(supernet, archs, recalib_x=train_x, eval_x=val_x, eval_y=val_y,
                     recalib_batches=scfg["recalib_batches"],
                     batch_size=scfg["recalib_batch_size"],
                     eval_batch_size=scfg["eval_batch_size"])
    per = (time.perf_counter() - start) / len(archs)
    print(f"# {cfg['spos']['preset']} ({args.profile}): recalibration {n_recalib} images, "
          f"validation {n_val} images, {args.threads} threads")
    print(f"seconds per candidate: {per:.3f}")
    print(f"candidates per minute: {60 / per:.0f}")
    budget = scfg["population"] * scfg["generations"]
    print(f"one search ({budget} candidates): {budget * per:.1f} s")


if __name__ == "__main__":
    main()
