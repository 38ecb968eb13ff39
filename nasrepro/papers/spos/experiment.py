"""SPOS experiments (Guo et al. 2019): supernets, searches, and the archs of Tables 3 and 4.

Three supernets share the ``spos`` space and differ in what they search:

* ``block``: block choices only, scale 1.0 (Table 3 and "block search" of Table 4);
* ``channel``: all blocks Shuffle 3x3, channel scales searched ("choice_3 + channel search");
* ``block_channel``: both ("block search + channel search").

Retrained archs are named by *role* (``fixed/<name>``, ``random/<supernet>``,
``search/<supernet>/<sampler>/<searcher>``) and run index, so the DAG is known before any
search has finished; each run's ``metrics.json`` records the arch and its ``arch_id``.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path
from typing import Any

import torch

from nasrepro.config import methods_of
from nasrepro.errors import ConfigError, UnknownNameError
from nasrepro.harness import Run
from nasrepro.io import atomic_path, read_json, write_text
from nasrepro.papers.spos.grid import PAPER, role_seeds, role_seeds_key
from nasrepro.registry import get_method, method_settings
from nasrepro.spaces import SearchSpace, get_space
from nasrepro.spaces.macs_prior import macs_quantile, sample_under_macs
from nasrepro.stages import Inputs, cell_parts, retrain_spec, seed_index

SUPERNETS: dict[str, dict[str, Any]] = {
    "block": {"search_blocks": True, "search_channels": False},
    "channel": {"search_blocks": False, "search_channels": True, "fixed_block": 0},
    "block_channel": {"search_blocks": True, "search_channels": True},
}
FIXED_ARCHS = {"all_choice_3": 0, "all_choice_5": 1, "all_choice_7": 2, "all_choice_x": 3}


def supernet_space(config: dict, supernet: str) -> SearchSpace:
    """The ``spos`` space of the profile's preset, searching what ``supernet`` searches."""
    if supernet not in SUPERNETS:
        raise UnknownNameError(f"unknown SPOS supernet '{supernet}'; known: "
                               f"{', '.join(SUPERNETS)}")
    return get_space(config["spos"]["preset"], **SUPERNETS[supernet])


def name_checks(config: dict) -> list[tuple[str, Any]]:
    """(config key, check) for every registered name the ``spos`` section gives: the Snakefile
    runs them before any job (:func:`nasrepro.config.check_names`)."""
    sc = config["spos"]
    checks: list[tuple[str, Any]] = [("spos.preset", lambda: supernet_space(config, "block"))]
    for kind in ("sampler", "searcher"):
        checks += [(f"spos.methods.{kind}", lambda n=n, k=kind: get_method(k, n, paper="spos"))
                   for n in methods_of(config, "spos", kind)]
    checks += [("spos.main_sampler", lambda: get_method("sampler", sc["main_sampler"], "spos")),
               ("spos.main_searcher",
                lambda: get_method("searcher", sc["main_searcher"], "spos"))]
    return checks


def fixed_arch(space: SearchSpace, name: str) -> dict:
    """``all_choice_3`` etc.: the same block in every layer, scale 1.0."""
    if name not in FIXED_ARCHS:
        raise UnknownNameError(f"unknown fixed SPOS arch '{name}'; known: "
                               f"{', '.join(FIXED_ARCHS)}")
    n = len(space.sample(random.Random(0))["blocks"])
    return space.validate({"blocks": [FIXED_ARCHS[name]] * n})


def width_matched(space: SearchSpace, blocks: list[int], target: int) -> dict:
    """``blocks`` with mid-channel scales adjusted so the MACs come as close to ``target`` as
    this rule allows without exceeding it (SPOS Table 3: "all choice" rows at similar
    FLOPs, 321-327M against the 330M limit; the paper does not say how it adjusted them).

    Rule (deterministic, fixed before any result): the widest scale used in *every* layer
    whose MACs stay within ``target`` (the narrowest scale if none does), then, layer by layer
    from the input, each layer one scale wider if the total then stays within ``target`` (a
    layer that does not fit is skipped and the pass goes on).
    ``space`` must search channels (the ``block_channel`` space).
    """
    n = len(blocks)
    fits = [j for j in range(space.num_scales)
            if space.cost({"blocks": blocks, "channels": [j] * n}).macs <= target]
    base = max(fits) if fits else 0
    channels = [base] * n
    if base + 1 < space.num_scales:
        for i in range(n):
            wider = [*channels[:i], base + 1, *channels[i + 1:]]
            if space.cost({"blocks": blocks, "channels": wider}).macs <= target:
                channels = wider
    return space.validate({"blocks": list(blocks), "channels": channels})


def baseline_arch(config: dict, name: str) -> dict:
    """The all-choice baseline ``name`` of Tables 3/4: with ``spos.baseline_widths: matched``
    (default, as the paper) widened or narrowed to the search's MACs limit
    (:func:`width_matched`), with ``plain`` the same block at scale 1.0 in every layer."""
    arch = fixed_arch(supernet_space(config, "block"), name)
    if config["spos"].get("baseline_widths", "matched") == "plain":
        return arch
    return width_matched(supernet_space(config, "block_channel"), arch["blocks"],
                         macs_limit(config))


def macs_limit(config: dict) -> int:
    """The search's MACs limit: ``spos.search.macs_limit`` if set, else the
    ``spos.search.macs_limit_quantile`` quantile of the MACs of 2000 uniform random block archs
    (default 0.585: where the paper's 330M limit sits in the official ImageNet space)."""
    scfg = config["spos"]["search"]
    if scfg.get("macs_limit"):
        return int(scfg["macs_limit"])
    return macs_quantile(supernet_space(config, "block"), scfg["macs_limit_quantile"])


def random_arch(config: dict, supernet: str, index: int) -> dict:
    """The ``index``-th random arch of a supernet's space under the MACs limit (seeded)."""
    limit = macs_limit(config)
    arch = sample_under_macs(supernet_space(config, supernet), random.Random(10_000 + index),
                             limit)
    if arch is not None:
        return arch
    raise ConfigError(f"no random {supernet} arch under the MACs limit {limit} in 100000 tries; "
                      f"raise spos.search.macs_limit")


def role_arch(config: dict, role: str, index: int) -> tuple[dict, int]:
    """(arch, training seed) of run ``index`` of a fixed or random role."""
    kind, _, name = role.partition("/")
    seeds = role_seeds(config, role)
    if kind == "fixed":
        return baseline_arch(config, name), seeds[index]
    if kind == "random":
        return random_arch(config, name, index), index
    raise UnknownNameError(f"role '{role}' has no fixed arch; search roles take the search's "
                           f"best.json")


def make_sampler(config: dict, space: SearchSpace, name: str, seed: int) -> Any:
    """A registered sampler for a single-path supernet (attentive ones score ``k = 3``
    candidates by minibatch loss, the MACs prior from 2000 uniform paths)."""
    from nasrepro.samplers import SamplerContext, uniform_prior

    entry = get_method("sampler", name, paper="spos")
    context = SamplerContext(prior=uniform_prior(space),
                             settings=method_settings(config, "spos", "sampler", name))
    return entry.factory(space, seed, context)


def train_supernet(config: dict, supernet: str, sampler: str, seed: int,
                   out_dir: str | Path) -> None:
    """Train a single-path supernet with a registered sampler; write supernet.pt + log.csv."""
    from nasrepro.evaluation import evaluate_subnets
    from nasrepro.experiments.common import check_space_matches_data, load_data
    from nasrepro.samplers import SinglePathStep
    from nasrepro.training import TrainConfig, train

    run = Run()
    out_dir = Path(out_dir)
    space = supernet_space(config, supernet)
    step = SinglePathStep(make_sampler(config, space, sampler, seed))
    cfg = TrainConfig.from_dict(config["spos"]["supernet_train"])
    data = load_data(config)
    check_space_matches_data(space, data)
    torch.manual_seed(seed)
    model = space.build_supernet().to(config["device"])
    probe_rng = random.Random(seed)
    probes = [space.sample(probe_rng) for _ in range(3)]
    scfg = config["spos"]["search"]

    def eval_fn(m: torch.nn.Module) -> dict[str, float]:
        accs = evaluate_subnets(m, probes, recalib_x=data.train_x, eval_x=data.val_x,
                                eval_y=data.val_y, recalib_batches=max(1, scfg["recalib_batches"]),
                                batch_size=scfg["recalib_batch_size"])
        return {"val_acc_probe_mean": 100.0 * sum(accs) / len(accs)}

    train(model, data, cfg, seed=seed, run_dir=out_dir, step=step, eval_fn=eval_fn,
          progress=config.get("progress", True), desc=f"supernet {supernet}/{sampler}/s{seed}")
    with atomic_path(out_dir / "supernet.pt") as tmp:
        torch.save({"state_dict": model.state_dict(), "space": space.full_name,
                    "space_settings": SUPERNETS[supernet]}, tmp)
    write_text(out_dir / "sampled_macs.csv",
               "step,macs\n" + "".join(f"{i},{m}\n" for i, m in enumerate(step.sampled_macs)))
    run.finish(out_dir, config, seed=seed, device=config["device"], dataset_checksum=data.checksum,
               extra={"supernet": supernet, "sampler": sampler})


def load_supernet(config: dict, supernet: str, supernet_dir: str | Path) -> torch.nn.Module:
    """A trained supernet from ``supernet_dir/supernet.pt``."""
    space = supernet_space(config, supernet)
    model = space.build_supernet()
    state = torch.load(Path(supernet_dir) / "supernet.pt", map_location="cpu", weights_only=True)
    model.load_state_dict(state["state_dict"])
    return model.to(config["device"]).eval()


def supernet_fitness(config: dict, model: torch.nn.Module, data: Any,
                     recalib_batches: int | None = None) -> Any:
    """Batched fitness: val top-1 (%) of each path after BN recalibration (SPOS Sec. 3.4)."""
    from nasrepro.evaluation import evaluate_subnets

    scfg = config["spos"]["search"]
    n_recalib = scfg["recalib_batches"] if recalib_batches is None else recalib_batches

    def evaluate(archs: list[dict]) -> list[float]:
        accs = evaluate_subnets(model, archs, recalib_x=data.train_x, eval_x=data.val_x,
                                eval_y=data.val_y, recalib_batches=n_recalib,
                                batch_size=scfg["recalib_batch_size"],
                                eval_batch_size=scfg["eval_batch_size"])
        return [100.0 * a for a in accs]

    return evaluate


def run_search(config: dict, supernet: str, supernet_dir: str | Path, searcher: str, seed: int,
               out_dir: str | Path) -> None:
    """Search a trained supernet with a registered searcher; write archs.jsonl, curve.csv,
    best.json (the search's outputs) into ``out_dir``."""
    from nasrepro.experiments.common import load_data
    from nasrepro.search import n_evaluations_of, write_search_outputs

    run = Run()
    space = supernet_space(config, supernet)
    entry = get_method("searcher", searcher, paper="spos")
    data = load_data(config)  # after the name checks: unknown names fail first
    model = load_supernet(config, supernet, supernet_dir)
    limit = macs_limit(config)
    settings = config["spos"]["search"]
    result = entry.factory(space, supernet_fitness(config, model, data),
                           n_evaluations_of(settings["population"], settings["generations"]),
                           constraint=lambda a: space.cost(a).macs <= limit, seed=seed,
                           settings=method_settings(config, "spos", "searcher", searcher),
                           progress=config.get("progress", True))
    write_search_outputs(result, out_dir)
    run.finish(out_dir, config, seed=seed, device=config["device"], dataset_checksum=data.checksum,
               extra={"supernet": supernet, "searcher": searcher, "macs_limit": limit})


def role_spec(config: dict, role: str, index: int,
              search_run: str | Path | None = None) -> dict:
    """``{"arch", "seed", "role", "index"}`` of one retrain run of Tables 3/4 (a search role:
    the arch of ``search_run/best.json``)."""
    n_runs, of = len(role_seeds(config, role)), role_seeds_key(config, role)
    if not 0 <= index < n_runs:
        raise ConfigError(f"--index {index} is out of range: role {role} has runs 0..{n_runs - 1} "
                          f"({n_runs} {of}); pass an index in that range")
    if role.startswith("search/"):
        if search_run is None:
            raise ConfigError(f"role {role} needs --input search=DIR (the search's run "
                              "directory)")
        arch = read_json(Path(search_run) / "best.json")["arch"]
        seed = role_seeds(config, role)[index]
    else:
        arch, seed = role_arch(config, role, index)
    return {"arch": arch, "seed": seed, "role": role, "index": index}


def retrain_setup(config: dict, spec: dict | None = None) -> tuple[SearchSpace, dict]:
    """The space that builds any SPOS arch (blocks and channels) and the retrain recipe."""
    return supernet_space(config, "block_channel"), config["spos"]["retrain"]


def inherited_accuracy(config: dict, runs: list[str | Path], supernet_dirs: dict[str, str],
                       out_csv: str | Path) -> None:
    """Supernet-inherited val accuracy of every retrained arch next to its standalone accuracy.

    Block-only archs are scored on the ``block`` supernet, archs with channel choices on the
    ``block_channel`` supernet (both of the main sampler and the first seed).
    """
    from nasrepro.experiments.common import load_data

    data = load_data(config)
    rows = []
    by_supernet: dict[str, list[dict]] = {"block": [], "block_channel": []}
    for run in runs:
        m = read_json(Path(run) / "metrics.json")
        kind = "block" if set(m["arch"]["channels"]) == {_default_scale_index(config)} \
            else "block_channel"
        by_supernet[kind].append(m)
    for kind, metrics in by_supernet.items():
        if not metrics:
            continue
        model = load_supernet(config, kind, supernet_dirs[kind])
        fitness = supernet_fitness(config, model, data, config["spos"]["inherit_recalib_batches"])
        accs = fitness([m["arch"] for m in metrics])
        for m, acc in zip(metrics, accs, strict=True):
            rows.append({"role": m["role"], "index": m["index"], "arch_id": m["arch_id"],
                         "supernet": kind, "macs": m["macs"], "params": m["params"],
                         "supernet_val_acc": round(acc, 6), "standalone_test_acc":
                         round(m["test_acc"], 6), "standalone_val_acc": round(m["val_acc"], 6)})
    rows.sort(key=lambda r: (r["role"], r["index"]))
    with atomic_path(out_csv) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]) if rows else ["role"])
        writer.writeheader()
        writer.writerows(rows)


def _default_scale_index(config: dict) -> int:
    space = supernet_space(config, "block")
    return space.validate({"blocks": fixed_arch(space, "all_choice_3")["blocks"]})["channels"][0]


# --------------------------------------------------------------------------- stages
def _train_supernet_stage(config: dict, cell: str, seed: int, out: Path, inputs: Inputs) -> None:
    supernet, sampler = cell_parts(PAPER, "train_supernet", cell, ("supernet", "sampler"))
    inputs.allow()
    train_supernet(config, supernet, sampler, seed, out)


def _search_stage(config: dict, cell: str, seed: int, out: Path, inputs: Inputs) -> None:
    supernet, _, searcher = cell_parts(PAPER, "search", cell, ("supernet", "sampler", "searcher"))
    supernet_run = inputs.allow("supernet").run("supernet", "the trained supernet's run")
    run_search(config, supernet, supernet_run, searcher, seed, out)


def _retrain_stage(config: dict, cell: str, seed: int | None, out: Path, inputs: Inputs) -> None:
    seeds = role_seeds(config, cell)
    index = seed_index(seeds, seed, cell, f"{len(seeds)} {role_seeds_key(config, cell)}")
    spec = role_spec(config, cell, index, inputs.allow("search").optional_run("search"))
    space, train_cfg = retrain_setup(config, spec)
    retrain_spec(config, space, train_cfg, spec, out)


def _inherit_study(config: dict, out: Path, inputs: Inputs) -> None:
    inputs.allow("block", "block_channel", "retrain")
    dirs = {k: str(inputs.run(k, f"the {k} supernet's run")) for k in ("block", "block_channel")}
    runs = inputs.runs("retrain", "the retrain runs")
    inherited_accuracy(config, runs, dirs, out / "inherit.csv")


#: the stages and studies of the CLI vocabulary (:mod:`nasrepro.stages`)
STAGES = {"train_supernet": _train_supernet_stage, "search": _search_stage,
          "retrain": _retrain_stage}
STUDIES = {"inherit": _inherit_study}
