"""FBNetV3: predictor scoring throughput (candidates/s) and the coarse stage's wall time.

The fine stage scores the whole Sobol pool and every evolution generation in batches on the
predictor; this prints candidates scored per second (encoding + forward, and forward only), and
runs the profile's coarse stage (iteration 0 fully trained, early-stopped later iterations,
predictor refits) on random inputs of the preset's shape and the profile's search train size,
printing its wall time. Usage:
python bench/fbnetv3_search_speed.py [--profile default] [--threads 1] [--no-coarse]
"""

from __future__ import annotations

import argparse
import random
import time
from types import SimpleNamespace

import torch
from _common import fake_batch, timeit

from nasrepro.config import load_config
from nasrepro.papers.fbnetv3 import experiment as fb
from nasrepro.predictors.fbnetv3 import (
    PredictorConfig,
    encode_candidates,
    new_predictor,
    train_predictor,
)
from nasrepro.search.fbnetv3_coarse import coarse_search, sobol_pool


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="default")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--pool", type=int, default=4096, help="candidates scored in one call")
    ap.add_argument("--no-coarse", action="store_true", help="skip the coarse-stage timing")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cfg = load_config(args.profile)
    fcfg = cfg["fbnetv3"]
    space = fb.joint_space(cfg)
    pcfg = PredictorConfig.from_dict(fcfg["predictor"])
    rng = random.Random(0)
    train_c = [space.sample(rng) for _ in range(32)]
    model = train_predictor(space, train_c, [rng.random() for _ in train_c], pcfg, seed=0,
                            pretrained=new_predictor(space, pcfg, seed=0))
    pool = sobol_pool(space, args.pool, seed=0)
    t_all = timeit(lambda: model.score(space, pool), repeat=3, warmup=1)
    a, r = encode_candidates(space, pool)
    t_fwd = timeit(lambda: model.predict(a, r), repeat=5, warmup=1)
    print(f"profile {args.profile}, {args.threads} thread(s), pool of {len(pool)}")
    print(f"predictor scoring (encode + forward): {len(pool) / t_all:,.0f} candidates/s")
    print(f"predictor forward only:               {len(pool) / t_fwd:,.0f} candidates/s")
    if args.no_coarse:
        return

    shape = space.arch_space.input_shape
    n_train = fcfg["search_train_size"] or 2000
    x, y = fake_batch(shape, n_train, seed=1)
    vx, vy = fake_batch(shape, cfg["data"]["val_size"], seed=2)
    data = SimpleNamespace(train_x=x, train_y=y, val_x=vx, val_y=vy, num_classes=10)
    limit = fb.macs_limit(cfg, "A")
    legal = sobol_pool(space, fcfg["pool_size"], seed=0,
                       constraint=lambda c: space.cost(c).macs <= limit)

    def train_fn(cands: list[dict], stop: int | None) -> list[list[float]]:
        return [fb.train_candidate(space, c, data, seed=i, stop_epoch=stop)
                for i, c in enumerate(cands)]

    def fit_fn(cands: list[dict], scores: list[float], it: int):  # noqa: ANN202
        m = train_predictor(space, cands, scores, pcfg, seed=it, pretrained=None)
        return lambda cs: m.score(space, cs)

    co = fcfg["coarse"]
    start = time.perf_counter()
    res = coarse_search(space, legal, train_fn, fit_fn, batch_size=co["batch_size"],
                        iterations=co["iterations"], threshold=co["threshold"],
                        explore=co["explore"], seed=0, corr_method=co["corr"])
    wall = time.perf_counter() - start
    epochs = sum(len(e["curve"]) for e in res.entries)
    print(f"coarse stage ({co['batch_size']} x {co['iterations']} candidates, {epochs} "
          f"candidate-epochs on {n_train} images): {wall:.1f} s wall")


if __name__ == "__main__":
    main()
