"""AttentiveNAS experiments (Wang et al. 2021; PAPERS.md section 3): sandwich supernets trained
with uniform / BestUp-k / WorstUp-k sampling, their Pareto fronts, and the predictor study.

Steps (one CLI call each, see ``workflow/rules/attentivenas.smk``):

1. :func:`build_prior` (``nasrepro attn-prior``): the space's MACs prior p(MACs) (Sec. 3.2),
   the MACs buckets of the report and the fixed, seeded subnet set (min + max + subnets spread
   over the MACs range), built once per preset -> ``prior/prior.json`` + ``prior/subnets.json``.
2. :func:`train_supernet` (``nasrepro train-supernet --paper attentivenas``): one sandwich
   supernet per sampler and seed (``--supernet main``), plus a short run of the predictor
   study's sampler (``--supernet short``, the paper's ep30-vs-ep360 comparison at our scale).
   The sampler is a registered method (``methods/samplers.py``) giving the sandwich's
   ``choose``; everything else (loop, recipe, max-subnet dropout / drop-connect, grad clip by
   value) is shared. Writes ``supernet.pt``, ``log.csv``, ``sampled_macs.csv`` (MACs of every
   trained middle subnet) and provenance.
3. :func:`run_search` (``nasrepro search --paper attentivenas``): every subnet of the fixed set
   evaluated after BN recalibration (batched, recalibration batches reused) -> ``subnets.csv``;
   on main supernets also the Pareto evolutionary search (accuracy vs MACs) ->
   ``archs.jsonl``, ``curve.csv``, ``best.json``.
4. :func:`common_study` (``nasrepro study attentivenas common``): every main supernet
   evaluated on the union of all main searches' candidates (the common candidate set; with
   the fixed set of each ``subnets.csv``, every front is built from the same archs) ->
   ``common.csv``.
5. :func:`predictor_study` (``nasrepro attn-predictor``): the ``attentivenas.methods.predictor``
   predictor (paper: random forest) on arch features ->
   supernet accuracy, Kendall tau with bootstrap CI on held-out subnets; short-vs-long and
   seed-vs-seed rank agreement on the fixed set -> ``predictor.json``.

Results live under ``results/<profile>/attentivenas/{main,short}/<sampler>/seed<s>/``.
"""

from __future__ import annotations

import csv
import json
import math
import random
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nasrepro.config import methods_of, seeds_of
from nasrepro.errors import ConfigError, DataError, UnknownNameError
from nasrepro.harness import Run
from nasrepro.io import (
    atomic_path,
    read_json,
    read_jsonl,
    write_json,
    write_text,
)
from nasrepro.papers.attentivenas.grid import (
    PRIOR_DIR,
    TRAININGS,
    eval_path,
    supernet_path,
)
from nasrepro.registry import get_method, method_settings
from nasrepro.spaces import SearchSpace, get_space
from nasrepro.stages import Inputs, cell_parts

PAPER = "attentivenas"


def _results(config: dict) -> Path:
    """``results/<profile>``."""
    from nasrepro.config import profile_dir

    return profile_dir(config)


def space_of(config: dict) -> SearchSpace:
    """The ``mobilenet`` space of the profile's preset."""
    return get_space(config["attentivenas"]["preset"])


def name_checks(config: dict) -> list[tuple[str, Any]]:
    """(config key, check) for every registered name the ``attentivenas`` section gives (run by
    the Snakefile before any job, :func:`nasrepro.config.check_names`)."""
    ac = config["attentivenas"]
    checks: list[tuple[str, Any]] = [("attentivenas.preset", lambda: space_of(config))]
    checks += [("attentivenas.methods.sampler",
                lambda n=n: get_method("sampler", n, paper=PAPER))
               for n in methods_of(config, PAPER, "sampler")]
    checks += [("attentivenas.predictor.sampler",
                lambda: get_method("sampler", ac["predictor"]["sampler"], paper=PAPER)),
               *[("attentivenas.methods.predictor",
                  lambda n=n: get_method("predictor", n, paper=PAPER))
                 for n in methods_of(config, PAPER, "predictor")],
               *[("attentivenas.methods.searcher",
                  lambda n=n: get_method("searcher", n, paper=PAPER))
                 for n in methods_of(config, PAPER, "searcher")]]
    return checks


def supernet_dir(config: dict, training: str, sampler: str, seed: int) -> Path:
    """``results/<profile>/attentivenas/train_supernet/<training>/<sampler>/seed<seed>``."""
    return _results(config) / supernet_path(training, sampler, seed)


def subnets_csv(config: dict, training: str, sampler: str, seed: int) -> Path:
    """The fixed subnet set's accuracies of one supernet (``search/<training>/<sampler>/
    seed<s>/subnets.csv``)."""
    return _results(config) / eval_path(training, sampler, seed) / "subnets.csv"


def train_config(config: dict, training: str) -> dict:
    """The supernet recipe; the short run has ``short_epochs`` epochs (and no more warm-up)."""
    if training not in TRAININGS:
        raise UnknownNameError(f"unknown AttentiveNAS supernet '{training}'; known: "
                               f"{', '.join(TRAININGS)}")
    cfg = dict(config["attentivenas"]["supernet_train"])
    if training == "short":
        cfg["epochs"] = int(config["attentivenas"]["predictor"]["short_epochs"])
        cfg["warmup_epochs"] = min(float(cfg.get("warmup_epochs", 0.0)), cfg["epochs"])
    return cfg


# --------------------------------------------------------------------------- 1. prior


def build_prior(config: dict, out_dir: str | Path) -> dict:
    """Write ``prior.json`` (p(MACs), report buckets) and ``subnets.json`` (the fixed set).

    ``prior.json``: ``preset``, ``bucket_macs``, ``histogram`` (:class:`MacsHistogram` dict),
    ``macs_min``/``macs_max`` (min/max subnet), ``report_edges`` (``report_buckets``
    equal-count MACs buckets of uniform archs, outer edges at the min/max subnet).
    ``subnets.json``: ``[{"name", "arch", "arch_id", "macs"}]``: ``min``, ``max``, then
    ``n_subnets`` archs from :func:`stratified_archs`.
    """
    from nasrepro.spaces.macs_prior import macs_histogram, stratified_archs

    run = Run()
    ac = config["attentivenas"]
    pc = ac["prior"]
    space = space_of(config)
    lo, hi = space.macs_range()
    bucket = pc["bucket_macs"] or (hi - lo) / pc["n_buckets"]
    hist = macs_histogram(space, pc["n_samples"], pc["seed"], bucket)
    rng = random.Random(pc["seed"])
    macs = np.sort([space.cost(space.sample(rng)).macs for _ in range(pc["n_samples"])])
    nb = ac["report_buckets"]
    inner = [float(np.quantile(macs, i / nb)) for i in range(1, nb)]
    edges = [float(lo)] + inner + [float(hi)]
    if any(b <= a for a, b in zip(edges, edges[1:], strict=False)):
        raise ConfigError(f"attentivenas.report_buckets={nb} gives empty MACs buckets for "
                          f"{space.full_name}; use fewer buckets")
    prior = {"preset": space.full_name, "bucket_macs": bucket, "histogram": hist.to_dict(),
             "macs_min": lo, "macs_max": hi, "report_edges": edges}
    archs = [("min", space.min_arch()), ("max", space.max_arch())]
    archs += [(f"r{i:03d}", a) for i, a in enumerate(
        stratified_archs(space, hist, ac["n_subnets"], pc["seed"] + 1))]
    subnets = [{"name": n, "arch": a, "arch_id": space.arch_id(a),
                "macs": space.cost(a).macs} for n, a in archs]
    out_dir = Path(out_dir)
    write_json(out_dir / "subnets.json", subnets)
    write_json(out_dir / "prior.json", prior)
    run.finish(out_dir, config, seed=pc["seed"], device="cpu", extra={"step": "prior"})
    return prior


def load_prior(config: dict, prior_dir: str | Path | None = None) -> tuple[Any, dict, list[dict]]:
    """``(MacsHistogram, prior.json dict, subnets.json list)`` of the prior study's run dir
    ``prior_dir`` (default: the profile's, ``attentivenas/study/prior``)."""
    from nasrepro.spaces.macs_prior import MacsHistogram

    d = Path(prior_dir) if prior_dir is not None else _results(config) / PRIOR_DIR
    if not (d / "prior.json").exists():
        raise DataError(f"{d / 'prior.json'} is missing; run `snakemake attentivenas_prior "
                        f"--config profile={config['profile']}` first")
    prior = read_json(d / "prior.json")
    if prior["preset"] != space_of(config).full_name:
        raise ConfigError(f"{d / 'prior.json'} was built for {prior['preset']}, not "
                          f"{space_of(config).full_name}; rebuild it (delete the file)")
    return MacsHistogram.from_dict(prior["histogram"]), prior, read_json(d / "subnets.json")


# --------------------------------------------------------------------------- 2. training


def read_subnet_accs(path: str | Path) -> dict[str, float]:
    """``arch_id -> accuracy (%)`` of a ``subnets.csv``."""
    with open(path, newline="") as f:
        return {r["arch_id"]: float(r["acc"]) for r in csv.DictReader(f)}


def predictor_fn(config: dict, space: SearchSpace, prior_dir: str | Path | None = None,
                 short_eval: str | Path | None = None) -> Any:
    """The accuracy predictor of the ``scorer: predictor`` samplers: the
    ``attentivenas.methods.predictor`` predictor (paper: random forest) fitted on
    the fixed subnet set's accuracies of the short run (``short_eval``: its evaluation's run
    dir, default ``search/short/<predictor.sampler>/seed<s0>``)."""
    ac = config["attentivenas"]
    path = (Path(short_eval) / "subnets.csv" if short_eval is not None else
            subnets_csv(config, "short", ac["predictor"]["sampler"], seeds_of(config, PAPER)[0]))
    if not path.exists():
        raise DataError(f"{path} is missing: the predictor scorer needs the short run's subnet "
                        f"accuracies; run the attentivenas_search rule of its cell first")
    _, _, subnets = load_prior(config, prior_dir)
    accs = read_subnet_accs(path)
    score = fit_predictor(config, space, [s["arch"] for s in subnets],
                          [accs[s["arch_id"]] for s in subnets])

    def f(archs: list[dict]) -> list[float]:
        return [float(v) for v in score(archs)]

    return f


def fit_predictor(config: dict, space: SearchSpace, archs: list[dict],
                  accs: list[float]) -> Any:
    """``score(archs)`` of the registered predictor ``attentivenas.methods.predictor`` (paper:
    ``random_forest``) fitted on (arch, accuracy) pairs, seeded by ``predictor.seed``."""
    pc = config["attentivenas"]["predictor"]
    entry = get_method("predictor", methods_of(config, PAPER, "predictor")[0], paper=PAPER)
    return entry.factory(space, archs, accs, seed=pc["seed"],
                         settings=method_settings(config, PAPER, "predictor", entry.name),
                         pretrained=None)


def make_step(config: dict, space: SearchSpace, sampler: str, seed: int,
              prior_dir: str | Path | None = None, short_eval: str | Path | None = None) -> Any:
    """The :class:`SandwichStep` of a registered sampler (its ``choose``) and the config; the
    sampler's MACs prior and predictor come from ``prior_dir`` and ``short_eval``
    (:func:`load_prior`, :func:`predictor_fn`)."""
    from nasrepro.samplers import SamplerContext, SandwichStep

    ac = config["attentivenas"]
    entry = get_method("sampler", sampler, paper=PAPER)
    context = SamplerContext(prior=lambda: load_prior(config, prior_dir)[0],
                             predictor=lambda: predictor_fn(config, space, prior_dir, short_eval),
                             settings=method_settings(config, PAPER, "sampler", sampler))
    # the uniform sampler draws from random.Random(seed), the stream SandwichStep's own
    # uniform slots use: identical subnets either way
    choose = entry.factory(space, seed, context)
    sw = ac["sandwich"]
    return SandwichStep(space, seed, n_random=sw["n_random"], distill=sw["distill"],
                        choose=choose, max_dropout=sw["max_dropout"],
                        max_drop_connect=sw["max_drop_connect"],
                        drop_connect_only_last_two_stages=sw["drop_connect_only_last_two_stages"],
                        grad_clip_value=sw["grad_clip_value"])


def _evaluator(config: dict, data: Any) -> Any:
    """Batched subnet evaluation: val top-1 (%) after BN recalibration on fixed batches."""
    from nasrepro.evaluation import evaluate_subnets

    ec = config["attentivenas"]["evaluate"]
    n_eval = ec["eval_size"] or data.val_x.shape[0]
    eval_x, eval_y = data.val_x[:n_eval], data.val_y[:n_eval]

    def evaluate(model: torch.nn.Module, archs: list[dict]) -> list[float]:
        accs = evaluate_subnets(model, archs, recalib_x=data.train_x, eval_x=eval_x,
                                eval_y=eval_y, recalib_batches=ec["recalib_batches"],
                                batch_size=ec["recalib_batch_size"],
                                eval_batch_size=ec["eval_batch_size"],
                                generator=torch.Generator().manual_seed(ec["recalib_seed"]))
        return [100.0 * a for a in accs]

    return evaluate


def train_supernet(config: dict, supernet: str, sampler: str, seed: int,
                   out_dir: str | Path, prior_dir: str | Path | None = None,
                   short_eval: str | Path | None = None) -> None:
    """Train one sandwich supernet (``supernet`` = ``main`` or ``short``) with a registered
    sampler; write supernet.pt, log.csv, sampled_macs.csv and provenance into ``out_dir``
    (``prior_dir``, ``short_eval``: see :func:`make_step`)."""
    from nasrepro.experiments.common import check_space_matches_data, load_data
    from nasrepro.training import TrainConfig, train

    run = Run()
    out_dir = Path(out_dir)
    space = space_of(config)
    cfg = TrainConfig.from_dict(train_config(config, supernet))
    step = make_step(config, space, sampler, seed, prior_dir, short_eval)
    data = load_data(config)
    check_space_matches_data(space, data)
    torch.manual_seed(seed)
    model = space.build_supernet(generator=torch.Generator().manual_seed(seed))
    model = model.to(config["device"])
    evaluate = _evaluator(config, data)
    probes = [space.min_arch(), space.max_arch()]

    def eval_fn(m: torch.nn.Module) -> dict[str, float]:
        lo, hi = evaluate(m, probes)
        return {"val_acc_min": lo, "val_acc_max": hi}

    train(model, data, cfg, seed=seed, run_dir=out_dir, step=step, eval_fn=eval_fn,
          extra_config={"attentivenas_sampler": sampler,
                        "sandwich": config["attentivenas"]["sandwich"],
                        "attentive": config["attentivenas"]["attentive"]},
          progress=config.get("progress", True),
          desc=f"supernet {supernet}/{sampler}/s{seed}")
    tmp = out_dir / ".supernet.pt.tmp"
    torch.save({"state_dict": model.state_dict(), "space": space.full_name}, tmp)
    tmp.replace(out_dir / "supernet.pt")
    write_text(out_dir / "sampled_macs.csv",
               "step,macs\n" + "".join(f"{i},{m}\n" for i, m in enumerate(step.sampled_macs)))
    run.finish(out_dir, config, seed=seed, device=config["device"], dataset_checksum=data.checksum,
               extra={"supernet": supernet, "sampler": sampler,
                      "train_images": cfg.epochs * _steps(data, cfg) * cfg.batch_size})


def _steps(data: Any, cfg: Any) -> int:
    from nasrepro.training.loop import steps_per_epoch_of

    return steps_per_epoch_of(int(data.train_x.shape[0]), cfg)


def load_supernet(config: dict, supernet_dir_: str | Path) -> torch.nn.Module:
    """A trained supernet from ``<dir>/supernet.pt`` (eval mode, on the config's device)."""
    space = space_of(config)
    path = Path(supernet_dir_) / "supernet.pt"
    if not path.exists():
        raise DataError(f"{path} is missing; train the supernet first (train-supernet)")
    model = space.build_supernet()
    state = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(state["state_dict"])
    return model.to(config["device"]).eval()


# --------------------------------------------------------------------------- 3. evaluation


def run_search(config: dict, supernet: str, supernet_dir_: str | Path, searcher: str, seed: int,
               out_dir: str | Path, prior_dir: str | Path | None = None) -> None:
    """Evaluate the fixed subnet set (``subnets.csv``); on a main supernet also run the
    registered Pareto searcher (``archs.jsonl``, ``curve.csv``, ``best.json``)."""
    from nasrepro.experiments.common import load_data
    from nasrepro.search import n_evaluations_of, write_search_outputs

    run = Run()
    if supernet not in TRAININGS:
        raise UnknownNameError(f"unknown AttentiveNAS supernet '{supernet}'; known: "
                               f"{', '.join(TRAININGS)}")
    space = space_of(config)
    entry = get_method("searcher", searcher, paper=PAPER) if supernet == "main" else None
    _, _, subnets = load_prior(config, prior_dir)
    data = load_data(config)
    model = load_supernet(config, supernet_dir_)
    evaluate = _evaluator(config, data)
    t0 = time.time()
    accs = evaluate(model, [s["arch"] for s in subnets])
    eval_s = time.time() - t0
    out_dir = Path(out_dir)
    with atomic_path(out_dir / "subnets.csv") as tmp, open(tmp, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["name", "arch_id", "macs", "acc", "arch"])
        for s, a in zip(subnets, accs, strict=True):
            w.writerow([s["name"], s["arch_id"], s["macs"], repr(round(a, 6)),
                        json.dumps(s["arch"], separators=(",", ":"))])
    extra: dict[str, Any] = {"supernet": supernet, "n_subnets": len(subnets),
                             "subnet_eval_s": round(eval_s, 3)}
    if entry is not None:
        settings = config["attentivenas"]["search"]
        result = entry.factory(space, lambda archs: evaluate(model, archs),
                               n_evaluations_of(settings["population"], settings["generations"]),
                               constraint=None, seed=seed,
                               settings=method_settings(config, PAPER, "searcher", searcher),
                               progress=config.get("progress", True))
        write_search_outputs(result, out_dir)
        extra.update(searcher=searcher, n_search_evaluated=result.n_evaluated)
    run.finish(out_dir, config, seed=seed, device=config["device"], dataset_checksum=data.checksum,
               extra=extra)


# --------------------------------------------------------------------------- 4. common set


def common_candidates(search_dirs: list[str | Path]) -> list[dict]:
    """The union of the searches' candidates (``archs.jsonl``), one per ``arch_id``, sorted by
    ``arch_id`` so the set does not depend on the order of the runs:
    ``[{"arch_id", "macs", "arch"}, ...]``."""
    union: dict[str, dict] = {}
    for d in search_dirs:
        for e in read_jsonl(Path(d) / "archs.jsonl"):
            union.setdefault(e["arch_id"], {"arch_id": e["arch_id"], "macs": int(e["macs"]),
                                            "arch": e["arch"]})
    return [union[k] for k in sorted(union)]


def common_study(config: dict, supernet_dirs: list[str | Path], search_dirs: list[str | Path],
                 out_csv: str | Path) -> None:
    """Evaluate every main supernet on the common candidate set (issue 12, common random
    numbers at the arch level): the union of all main searches' candidates, with the
    evaluator of the searches (same recalibration batches and validation images, so a
    supernet's own candidates get exactly their search fitness again). Writes ``common.csv``:
    ``sampler, seed, arch_id, macs, acc, arch`` (``sampler``/``seed`` from the run paths)."""
    from nasrepro.experiments.common import load_data

    run = Run()
    if len(supernet_dirs) != len(search_dirs):
        raise ConfigError(f"the common study needs one search run per supernet run "
                          f"({len(supernet_dirs)} supernets, {len(search_dirs)} searches); pass "
                          "--input supernet=... and --input search=... for every main supernet")
    candidates = common_candidates(search_dirs)
    data = load_data(config)
    evaluate = _evaluator(config, data)
    rows = []
    for d in supernet_dirs:
        sampler, seed = Path(d).parent.name, int(Path(d).name.removeprefix("seed"))
        accs = evaluate(load_supernet(config, d), [c["arch"] for c in candidates])
        rows += [[sampler, seed, c["arch_id"], c["macs"], repr(round(a, 6)),
                  json.dumps(c["arch"], separators=(",", ":"))]
                 for c, a in zip(candidates, accs, strict=True)]
    out_csv = Path(out_csv)
    with atomic_path(out_csv) as tmp, open(tmp, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["sampler", "seed", "arch_id", "macs", "acc", "arch"])
        w.writerows(rows)
    run.finish(out_csv.parent, config, seed=seeds_of(config, PAPER)[0],
               device=config["device"], dataset_checksum=data.checksum,
               extra={"step": "common", "n_candidates": len(candidates),
                      "n_supernets": len(supernet_dirs)})


# --------------------------------------------------------------------------- 5. predictor


def _aligned(a: dict[str, float], b: dict[str, float]) -> tuple[list[float], list[float]]:
    keys = [k for k in a if k in b]
    return [a[k] for k in keys], [b[k] for k in keys]


def predictor_study(config: dict, out: str | Path, prior_dir: str | Path | None = None,
                    evals: dict[str, list[Path]] | None = None) -> dict:
    """Predictor tau (RF, held-out subnets), short-vs-long and seed-vs-seed tau -> JSON.

    The RF's data are the fixed subnets and the Pareto search's candidates of
    ``main/<sampler>/seed<s0>`` (split ``train_fraction`` / rest, seeded). The rank agreements
    use the fixed subnet set's accuracies of ``main/<sampler>/seed<s0>`` (the long side),
    ``short/<sampler>/seed<s0>`` and ``main/<sampler>/seed<s1>`` (when the profile has a second
    seed; else the seed-vs-seed entry is NaN). ``evals``: those evaluation run dirs as
    ``{"main": [seed s0, seed s1], "short": [seed s0]}`` (default: the profile's).
    """
    from nasrepro.metrics.ranking import kendall_tau_ci

    run = Run()
    ac = config["attentivenas"]
    pc = ac["predictor"]
    space = space_of(config)
    seeds = seeds_of(config, PAPER)
    sampler = pc["sampler"]
    if evals is None:
        evals = {"main": [subnets_csv(config, "main", sampler, s).parent for s in seeds[:2]],
                 "short": [subnets_csv(config, "short", sampler, seeds[0]).parent]}
    _, _, subnets = load_prior(config, prior_dir)
    long0 = read_subnet_accs(Path(evals["main"][0]) / "subnets.csv")
    short0 = read_subnet_accs(Path(evals["short"][0]) / "subnets.csv")
    rows = [s for s in subnets if s["arch_id"] in long0]
    # the Pareto search's candidates on the same supernet are more (arch, accuracy) samples
    search = Path(evals["main"][0]) / "archs.jsonl"
    if search.exists():
        seen = {s["arch_id"] for s in rows}
        for e in read_jsonl(search):
            if e["arch_id"] not in seen:
                seen.add(e["arch_id"])
                long0[e["arch_id"]] = float(e["fitness"])
                rows.append({"arch_id": e["arch_id"], "arch": e["arch"]})
    rng = random.Random(pc["seed"])
    order = list(range(len(rows)))
    rng.shuffle(order)
    n_train = max(2, int(round(pc["train_fraction"] * len(rows))))
    train_i, test_i = sorted(order[:n_train]), sorted(order[n_train:])
    archs = [s["arch"] for s in rows]
    y = [long0[s["arch_id"]] for s in rows]
    score = fit_predictor(config, space, [archs[i] for i in train_i], [y[i] for i in train_i])
    pred = [float(v) for v in score([archs[i] for i in test_i])] if test_i else []
    true = [y[i] for i in test_i]
    boot = {"n_resamples": pc["bootstrap_resamples"], "seed": pc["seed"]}
    result: dict[str, Any] = {
        "sampler": sampler, "seed": seeds[0],
        "predictor": {**kendall_tau_ci(pred, true, **boot), "n_train": len(train_i),
                      "pred": pred, "true": true,
                      "arch_ids": [rows[i]["arch_id"] for i in test_i]},
        "short_long": {**kendall_tau_ci(*_aligned(short0, long0), **boot),
                       "short_epochs": pc["short_epochs"],
                       "long_epochs": ac["supernet_train"]["epochs"]},
    }
    if len(seeds) > 1:
        other = read_subnet_accs(Path(evals["main"][1]) / "subnets.csv")
        result["seed_seed"] = {**kendall_tau_ci(*_aligned(long0, other), **boot),
                               "seeds": [seeds[0], seeds[1]]}
    else:
        result["seed_seed"] = {"tau": math.nan, "low": math.nan, "high": math.nan,
                               "pvalue": math.nan, "n": 0, "seeds": [seeds[0]]}
    out = Path(out)
    write_json(out, result)
    run.finish(out.parent, config, seed=pc["seed"], device="cpu",
               extra={"step": "predictor", "predictor": methods_of(config, PAPER, "predictor")[0]})
    return result


# --------------------------------------------------------------------------- stages


def retrain_setup(config: dict, spec: dict | None = None) -> tuple[SearchSpace, dict]:
    """The space and the recipe to retrain an arch by hand (``retrain --arch``; AttentiveNAS's
    claims are about supernets, so its grid retrains nothing)."""
    return space_of(config), config["attentivenas"]["supernet_train"]


def _train_supernet_stage(config: dict, cell: str, seed: int, out: Path, inputs: Inputs) -> None:
    training, sampler = cell_parts(PAPER, "train_supernet", cell, ("training", "sampler"))
    short = inputs.allow("prior", "short").optional_run("short")
    train_supernet(config, training, sampler, seed, out,
                   prior_dir=inputs.one("prior", "the prior study's prior.json").parent,
                   short_eval=short)


def _search_stage(config: dict, cell: str, seed: int, out: Path, inputs: Inputs) -> None:
    """``main/<sampler>``: the fixed subnets evaluated and the Pareto search; ``short/...``:
    the evaluation only."""
    training, _ = cell_parts(PAPER, "search", cell, ("training", "sampler"))
    searcher = methods_of(config, PAPER, "searcher")[0] if training == "main" else ""
    supernet_run = inputs.allow("prior", "supernet").run("supernet", "the trained supernet's run")
    run_search(config, training, supernet_run, searcher, seed, out,
               prior_dir=inputs.one("prior", "the prior study's prior.json").parent)


def _prior_study(config: dict, out: Path, inputs: Inputs) -> None:
    inputs.allow()
    build_prior(config, out)


def _common_study(config: dict, out: Path, inputs: Inputs) -> None:
    inputs.allow("supernet", "search")
    common_study(config, inputs.runs("supernet", "the main supernets' runs"),
                 inputs.runs("search", "the main supernets' search runs"),
                 out / "common.csv")


def _predictor_study(config: dict, out: Path, inputs: Inputs) -> None:
    # subnet_set: the prior study's subnets.json; the first main run's archs.jsonl is read too
    inputs.allow("prior", "main", "short", "subnet_set")
    evals = {"main": inputs.runs("main", "the main supernets' evaluation runs, seed s0 then s1"),
             "short": [inputs.run("short", "the short supernet's evaluation run")]}
    predictor_study(config, out / "predictor.json",
                    prior_dir=inputs.one("prior", "the prior study's prior.json").parent,
                    evals=evals)


#: the stages and studies of the CLI vocabulary (:mod:`nasrepro.stages`)
STAGES = {"train_supernet": _train_supernet_stage, "search": _search_stage}
STUDIES = {"prior": _prior_study, "common": _common_study, "predictor": _predictor_study}
