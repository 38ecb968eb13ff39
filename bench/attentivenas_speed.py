"""AttentiveNAS: subnets evaluated per minute, and supernet training images/s per sampler.

Evaluation: the profile's batched subnet evaluation (BN recalibration on the same fixed batches
for every subnet, then top-1 on ``eval_size`` validation images) of random subnets of the
preset, through the very function the pipeline uses (``evaluate_subnets``). Training: sandwich
steps (max + ``n_random`` + min subnets, in-place distillation, max-subnet dropout/drop-connect,
grad clip by value) with each sampler of the profile; BestUp/WorstUp's k-candidate scoring
shows as lower images/s than uniform. Random inputs of the preset's shape (speed does not
depend on pixel values). Usage: python bench/attentivenas_speed.py [--profile default]
"""

from __future__ import annotations

import argparse
import random
import time
from types import SimpleNamespace

import torch
from _common import fake_batch

from nasrepro.config import load_config, methods_of
from nasrepro.evaluation import evaluate_subnets
from nasrepro.registry import get_method
from nasrepro.samplers import SamplerContext, SandwichStep
from nasrepro.spaces import get_space
from nasrepro.spaces.macs_prior import macs_histogram


def bench_eval(cfg: dict, space: object, n: int) -> float:
    """Seconds per subnet evaluation."""
    ec = cfg["attentivenas"]["evaluate"]
    n_val = ec["eval_size"] or cfg["data"]["val_size"]
    train_x, _ = fake_batch(space.input_shape, ec["recalib_batches"] * ec["recalib_batch_size"],
                            seed=1)
    val_x, val_y = fake_batch(space.input_shape, n_val, seed=2)
    supernet = space.build_supernet().eval()
    rng = random.Random(0)
    archs = [space.sample(rng) for _ in range(n)]

    def run(a: list) -> None:
        evaluate_subnets(supernet, a, recalib_x=train_x, eval_x=val_x, eval_y=val_y,
                         recalib_batches=ec["recalib_batches"],
                         batch_size=ec["recalib_batch_size"],
                         eval_batch_size=ec["eval_batch_size"])

    run(archs[:2])  # warm-up
    start = time.perf_counter()
    run(archs)
    return (time.perf_counter() - start) / n


def bench_train(cfg: dict, space: object, sampler: str, steps: int) -> float:
    """Training images per second of sandwich steps with one sampler."""
    ac = cfg["attentivenas"]
    bs = ac["supernet_train"]["batch_size"]
    prior = macs_histogram(space, 2000, 0, (space.macs_range()[1] - space.macs_range()[0]) / 20)
    att = ac["attentive"]
    context = SamplerContext(prior=lambda: prior, k=att["k"], scorer="loss")
    choose = get_method("sampler", sampler, paper="attentivenas").factory(space, 0, context)
    sw = ac["sandwich"]
    step = SandwichStep(space, 0, n_random=sw["n_random"], distill=sw["distill"], choose=choose,
                        max_dropout=sw["max_dropout"], max_drop_connect=sw["max_drop_connect"],
                        grad_clip_value=sw["grad_clip_value"])
    model = space.build_supernet().train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True)
    ctx = SimpleNamespace(criterion=torch.nn.CrossEntropyLoss(label_smoothing=0.1))
    x, y = fake_batch(space.input_shape, bs, seed=3)

    def one() -> None:
        step(model, x, y, ctx)
        opt.step()
        opt.zero_grad(set_to_none=True)

    one()  # warm-up
    start = time.perf_counter()
    for _ in range(steps):
        one()
    return steps * bs / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="default")
    ap.add_argument("--subnets", type=int, default=20)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cfg = load_config(args.profile)
    ac = cfg["attentivenas"]
    space = get_space(ac["preset"])
    ec = ac["evaluate"]
    per = bench_eval(cfg, space, args.subnets)
    print(f"# {ac['preset']} ({args.profile}), {args.threads} thread(s)")
    print(f"subnet evaluation: recalibration {ec['recalib_batches']} x "
          f"{ec['recalib_batch_size']} images, top-1 on {ec['eval_size']} images")
    print(f"seconds per subnet: {per:.3f}")
    print(f"subnets evaluated per minute: {60 / per:.0f}")
    sw = ac["sandwich"]
    print(f"supernet training: batch {ac['supernet_train']['batch_size']}, max + "
          f"{sw['n_random']} + min subnets per step, k = {ac['attentive']['k']} (loss scorer)")
    first, base = methods_of(cfg, "attentivenas", "sampler")[0], None
    for sampler in methods_of(cfg, "attentivenas", "sampler"):
        ips = bench_train(cfg, space, sampler, args.steps)
        base = base or ips
        print(f"  {sampler:10s} {ips:8.0f} img/s ({ips / base:.2f}x {first})")


if __name__ == "__main__":
    main()
