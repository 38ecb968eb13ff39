"""Calibrate the SNAS penalty levels of a profile: params of the derived cells per lambda.

SNAS (Xie et al., ICLR 2019) reports its CIFAR-10 cells at three penalty levels: mild 2.9M,
moderate 2.8M, aggressive 2.3M parameters (evaluation network), i.e. moderate about -3 % and
aggressive about -21 % against mild. This script runs the profile's SNAS search (the pipeline's
own :func:`nasrepro.papers.darts_snas.experiment.run_group_search`, nothing copied) at each lambda
for the profile's seeds, derives the child cell, counts the parameters of its retraining
network (the profile's retrain preset, BN after pools as SNAS retrains it) and prints, per
lambda, the mean params, edges kept and the ratio to the reference lambda (the profile's
``mild`` level unless ``--reference`` says otherwise). Pick the levels whose ratios approach
the paper's and write them, with the printed ratios, into ``config/<profile>.yaml``.

    python bench/snas_lambda_calibration.py --profile default --lambdas 0 0.01 0.03 0.1 0.3
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PAPER_RATIOS = {"mild": 1.0, "moderate": 2.8 / 2.9, "aggressive": 2.3 / 2.9}


def main(argv: list[str] | None = None) -> None:
    from nasrepro.config import load_config
    from nasrepro.experiments.common import make_data_splits, set_threads, splits_path
    from nasrepro.papers.darts_snas import experiment as ds

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="default")
    ap.add_argument("--lambdas", type=float, nargs="+", required=True)
    ap.add_argument("--seeds", type=int, nargs="*", help="default: the profile's seeds")
    ap.add_argument("--reference", type=float, help="lambda of ratio 1 (default: mild's)")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        config = load_config(args.profile, {"results_dir": tmp, "progress": False})
        set_threads(config)
        make_data_splits(config, splits_path(config))
        dc = config["darts_snas"]
        reference = (args.reference if args.reference is not None
                     else float(dc["penalty_lambdas"]["mild"]))
        lambdas = sorted(set(args.lambdas) | {reference})
        seeds = args.seeds if args.seeds else list(config["seeds"])
        rows: dict[float, list[tuple[int, int]]] = {}
        for i, lam in enumerate(lambdas):
            cfg = copy.deepcopy(config)
            cfg["darts_snas"]["penalty_lambdas"] = {f"cal{i}": lam}
            cfg["darts_snas"]["snas_levels"] = [f"cal{i}"]
            group = ds.group_of(cfg, f"snas-cal{i}")
            space = ds.retrain_space(cfg, group)
            for seed in seeds:
                start = time.time()
                final = ds.run_group_search(cfg, f"snas-cal{i}", seed,
                                            Path(tmp) / f"cal{i}" / f"seed{seed}")
                params = space.cost(final["arch"]).params
                rows.setdefault(lam, []).append((params, final["edges_kept"]))
                print(f"  lambda {lam:g} seed {seed}: {params} params, {final['edges_kept']} "
                      f"edges ({time.time() - start:.0f} s)", flush=True)
        ref = statistics.mean(p for p, _ in rows[reference])
        print(f"\nSNAS penalty calibration, profile {args.profile} (form "
              f"{dc['snas_penalty']}), seeds {seeds}; paper ratios to mild: "
              + ", ".join(f"{k} {v:.3f}" for k, v in PAPER_RATIOS.items()))
        print(f"{'lambda':>10} {'params':>10} {'edges':>6} {'ratio':>7}")
        for lam in lambdas:
            params = statistics.mean(p for p, _ in rows[lam])
            edges = statistics.mean(e for _, e in rows[lam])
            print(f"{lam:>10g} {params:>10.0f} {edges:>6.1f} {params / ref:>7.3f}")


if __name__ == "__main__":
    main()
