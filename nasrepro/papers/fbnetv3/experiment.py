"""FBNetV3 experiments (Dai et al. 2021; PAPERS.md section 4): the steps the ``fbnetv3`` rules run.

Steps (the CLI vocabulary of :mod:`nasrepro.stages`; ``STAGES`` and ``STUDIES`` below):

* ``nasrepro study fbnetv3 pretrain``: pretrain the predictor's encoder + proxy head on random
  archs (free MACs/params labels); writes ``proxy.pt`` and ``proxy.json`` (held-out MACs
  correlation).
* ``nasrepro search --paper fbnetv3 --cell <A|B>_<joint|arch_only|autotrain> --seed s --input
  proxy=...``: Sobol pool under the budget's MACs limit, coarse stage (iteration 0 fully trained
  with per-epoch val accuracy, early-stopping epoch, predictor refits, predictor-picked
  batches), fine stage (predictor-scored evolution with patience), final pick (the fine stage's
  ``verify_top`` best predicted candidates are trained like later coarse candidates; the best
  measured of them and of the coarse stage is the search result). ``arch_only`` keeps the
  default recipe; ``autotrain`` keeps the arch fixed (recipe-only search, FBNetV3's AutoTrain).
* ``nasrepro study fbnetv3 predictor --input search=... --input proxy=...``: predictor quality
  on held-out measured candidates (those of the joint searches), for every registered predictor
  in ``fbnetv3.methods.predictor`` (FBNetV3 predictor with / without proxy pretraining, random
  forest) and every predictor seed.
* ``nasrepro retrain --paper fbnetv3 --cell <role> --seed s [--input arch=DIR]
  [--input recipe=DIR]``: retrain an arch from scratch with a recipe on the full train split
  (``nasrepro.experiments.common.retrain_arch``, the shared loop) with seed ``s`` (one of the
  role's seeds) into ``--out``; ``arch`` / ``recipe``: the run directories of the searches whose
  ``best.json`` give them. Roles: ``swap/A_recipeA`` ... (recipe swap), ``autotrain/default``
  and ``autotrain/autotrain``, ``search/arch_only``, and per ``fbnetv3.replicate_search_seeds``
  seed ``k`` every role again as ``<role>_s<k>`` from the searches at seed ``k`` (claims F1, F2
  and F5 at the method level).

Search training uses the first ``search_train_size`` training images (``null``: all) and the
validation split; retraining reports the test split. A search killed mid-way resumes: every
finished candidate's curve is kept in ``candidates.work/`` (with the checkpoint of the candidate
in training) until the search ends, and the rerun replays the same search without training them
again; the folder records the settings it was made with and is discarded when they changed.
"""

from __future__ import annotations

import csv
import dataclasses
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nasrepro.config import methods_of
from nasrepro.errors import ConfigError, UnknownNameError
from nasrepro.harness import Run
from nasrepro.io import (
    atomic_path,
    file_sha256,
    is_writer,
    read_json,
    stable_hash,
    write_json,
    write_jsonl,
)
from nasrepro.papers.fbnetv3.grid import (
    PAPER,
    replicate_search_seeds,
    role_retrain_seeds,
    role_seeds_key,
    role_sources,
)
from nasrepro.spaces import fbnetv3 as _fbnetv3_space  # noqa: F401  (registers the space)
from nasrepro.spaces.base import get_space
from nasrepro.spaces.macs_prior import macs_quantile, sample_under_macs
from nasrepro.spaces.recipe import JointSpace, RecipeSpace
from nasrepro.stages import Inputs, cell_parts, seed_index

MODES = ("joint", "arch_only", "autotrain")
BUDGETS = ("A", "B")
#: recipe-swap roles: (arch budget, recipe budget)
SWAP_ROLES = {"A_recipeA": ("A", "A"), "A_recipeB": ("A", "B"), "B_recipeB": ("B", "B"),
              "B_recipeA": ("B", "A")}


# --- spaces ---------------------------------------------------------------------------------
def arch_space(config: dict) -> Any:
    """The profile's ``fbnetv3`` arch space."""
    space = get_space(config["fbnetv3"]["preset"])
    if not isinstance(space, _fbnetv3_space.FBNetV3Space):
        raise ConfigError(f"fbnetv3.preset {config['fbnetv3']['preset']!r} is not an fbnetv3 "
                          f"preset; use fbnetv3/tiny, fbnetv3/small or fbnetv3/imagenet")
    return space


def name_checks(config: dict) -> list[tuple[str, Any]]:
    """(config key, check) for every registered name the ``fbnetv3`` section gives (run by the
    Snakefile before any job, :func:`nasrepro.config.check_names`)."""
    from nasrepro.registry import get_method

    checks: list[tuple[str, Any]] = [("fbnetv3.preset", lambda: arch_space(config)),
                                     ("fbnetv3.replicate_search_seeds",
                                      lambda: replicate_search_seeds(config))]
    checks += [("fbnetv3.methods.predictor",
                lambda n=n: get_method("predictor", n, paper="fbnetv3"))
               for n in methods_of(config, "fbnetv3", "predictor")]
    return checks


def recipe_space(config: dict) -> RecipeSpace:
    """The profile's recipe space (ranges, per-optimizer lr scale, EMA decay, fixed keys)."""
    fb = config["fbnetv3"]
    return RecipeSpace(fb["recipe_space"], lr_scale=fb["lr_scale"], ema_decay=fb["ema_decay"],
                       base_train=fb["base_train"])


def default_recipe(config: dict) -> dict:
    """The default recipe (AutoTrain's and the arch-only search's baseline)."""
    return recipe_space(config).validate(config["fbnetv3"]["default_recipe"])


def macs_limit(config: dict, budget: str) -> int:
    """MACs limit of budget ``A`` or ``B``: a value <= 1 is a quantile of 2000 random archs'
    MACs, a larger one an absolute MACs count."""
    if budget not in BUDGETS:
        raise UnknownNameError(f"unknown fbnetv3 budget {budget!r}; use A or B")
    value = float(config["fbnetv3"]["budgets"][budget])
    if value > 1:
        return int(value)
    return macs_quantile(arch_space(config), value)


def autotrain_arch(config: dict) -> dict:
    """AutoTrain's fixed arch: ``fbnetv3.autotrain_arch`` or the first seeded random arch
    under budget A."""
    space = arch_space(config)
    given = config["fbnetv3"].get("autotrain_arch")
    if given:
        return space.validate(given)
    arch = sample_under_macs(space, random.Random("autotrain"), macs_limit(config, "A"))
    if arch is not None:
        return arch
    raise ConfigError("no arch under budget A for AutoTrain; raise fbnetv3.budgets.A")


def joint_space(config: dict, mode: str = "joint") -> JointSpace:
    """The candidate space of a search mode."""
    if mode not in MODES:
        raise UnknownNameError(f"unknown fbnetv3 search mode {mode!r}; use {', '.join(MODES)}")
    kw: dict[str, Any] = {}
    if mode == "arch_only":
        kw["fixed_recipe"] = default_recipe(config)
    elif mode == "autotrain":
        kw["fixed_arch"] = autotrain_arch(config)
    return JointSpace(arch_space(config), recipe_space(config), **kw)


# --- training candidates --------------------------------------------------------------------
#: a search's folder of finished candidates' curves and the checkpoint of the one in training
CANDIDATE_WORK = "candidates.work"


def search_data(config: dict) -> Any:
    """The search's data: the profile's bundle, restricted to a seeded subset of
    ``fbnetv3.search_classes`` classes (the paper's ImageNet proxy: 200 classes; ``null``: all),
    its train split cut to ``fbnetv3.search_train_size`` images (``null``: all).

    On ImageNet with SPOS's 50,000 held-out images (50 per class), 200 classes keep the paper's
    10,000 held-out images. Labels keep their numbers (the network's head stays the preset's).
    """
    from nasrepro.data.stream import select
    from nasrepro.experiments.common import check_space_matches_data, load_data

    data = load_data(config)
    check_space_matches_data(arch_space(config), data)
    fb = config["fbnetv3"]
    k = fb.get("search_classes")
    if k:
        if k > data.num_classes:
            raise ConfigError(f"fbnetv3.search_classes={k} exceeds the dataset's "
                              f"{data.num_classes} classes; lower it or set null")
        g = torch.Generator().manual_seed(int(fb["search_seed"]))
        kept = torch.randperm(data.num_classes, generator=g)[:k]
        parts = {}
        for part in ("train", "val"):
            y = getattr(data, f"{part}_y")
            idx = torch.nonzero(torch.isin(y.cpu(), kept)).flatten()
            parts[f"{part}_x"] = select(getattr(data, f"{part}_x"), idx)
            parts[f"{part}_y"] = y[idx.to(y.device)]
        data = dataclasses.replace(data, **parts)
    n = fb.get("search_train_size")
    if n:
        data = dataclasses.replace(data, train_x=data.train_x[:n], train_y=data.train_y[:n])
    return data


def train_candidate(space: JointSpace, cand: dict, data: Any, *, seed: int,
                    stop_epoch: int | None = None, device: str = "cpu",
                    run_dir: str | Path | None = None) -> list[float]:
    """Train one candidate with its recipe (shared loop); val top-1 (%) after every epoch.
    With ``run_dir``, the loop checkpoints there every epoch and resumes from it."""
    from nasrepro.evaluation import accuracy
    from nasrepro.training import TrainConfig, train

    c = space.validate(cand)
    cfg = TrainConfig.from_dict(space.recipes.train_config(c["recipe"]))
    torch.manual_seed(seed)
    model = space.arch_space.build(c["arch"], dropout=space.recipes.dropout(c["recipe"]))
    model = model.to(device)

    def eval_fn(m: torch.nn.Module) -> dict[str, float]:
        return {"val_acc": 100.0 * accuracy(m, data.val_x, data.val_y)}

    rows = train(model, data, cfg, seed=seed, run_dir=run_dir, eval_fn=eval_fn, progress=False,
                 stop_epoch=stop_epoch)
    return [float(r["val_acc"]) for r in rows]


# --- proxy pretraining -----------------------------------------------------------------------
def pretrain(config: dict, out_dir: str | Path) -> dict:
    """Pretrain encoder + proxy head; write proxy.pt and proxy.json (held-out MACs tau)."""
    from nasrepro.metrics.ranking import kendall_tau
    from nasrepro.predictors.fbnetv3 import (
        PredictorConfig,
        new_predictor,
        pretrain_proxy,
        proxy_targets,
    )

    run = Run()
    out_dir = Path(out_dir)
    fb = config["fbnetv3"]
    space = joint_space(config)
    pcfg = PredictorConfig.from_dict(fb["predictor"])
    seed = int(fb["proxy_seed"])
    model = new_predictor(space, pcfg, seed=seed)
    info = pretrain_proxy(model, space, pcfg, seed=seed)
    rng = random.Random(f"proxy-heldout-{seed}")
    held = [space.arch_space.sample(rng) for _ in range(300)]
    x = torch.tensor([space.encode_arch(a) for a in held], dtype=torch.float32)
    pred = model.predict_proxy(x).numpy()
    true = proxy_targets(space.arch_space, held).numpy()
    summary = {
        "n_archs": info["n_archs"], "epochs": pcfg.proxy_epochs,
        "final_loss": info["losses"][-1] if info["losses"] else None,
        "heldout_macs_tau": kendall_tau(pred[:, 0], true[:, 0]),
        "heldout_params_tau": kendall_tau(pred[:, 1], true[:, 1]),
        "arch_dim": space.arch_encoding_size, "recipe_dim": space.recipes.encoding_size,
    }
    with atomic_path(out_dir / "proxy.pt") as tmp:
        torch.save({"state_dict": model.state_dict(), "summary": summary}, tmp)
    write_json(out_dir / "proxy.json", summary)
    run.finish(out_dir, config, seed=seed, device="cpu", extra={"step": "fbnetv3-pretrain"})
    return summary


def load_proxy(config: dict, path: str | Path) -> Any:
    """The pretrained predictor of ``proxy.pt``."""
    from nasrepro.predictors.fbnetv3 import PredictorConfig, new_predictor

    pcfg = PredictorConfig.from_dict(config["fbnetv3"]["predictor"])
    model = new_predictor(joint_space(config), pcfg, seed=0)
    state = torch.load(Path(path), map_location="cpu", weights_only=True)
    model.load_state_dict(state["state_dict"])
    return model


# --- search ---------------------------------------------------------------------------------
def _write_csv(path: Path, rows: list[dict]) -> None:
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def run_search(config: dict, budget: str, mode: str, proxy: str | Path, seed: int,
               out_dir: str | Path) -> dict:
    """Coarse + fine FBNetV3 search of one budget and mode; writes into ``out_dir``:
    ``candidates.jsonl``, ``early_stop.csv``, ``coarse.csv``, ``fine/{archs.jsonl,curve.csv,
    best.json}``, ``best.json`` (``{"arch", "recipe", "predicted", ...}``), ``summary.json``."""
    from nasrepro.predictors.fbnetv3 import PredictorConfig, train_predictor
    from nasrepro.search import write_search_outputs
    from nasrepro.search.fbnetv3_coarse import coarse_search, fine_search, sobol_pool

    run = Run()
    out_dir = Path(out_dir)
    fb = config["fbnetv3"]
    space = joint_space(config, mode)
    limit = macs_limit(config, budget)

    def constraint(c: dict) -> bool:
        return space.cost(c).macs <= limit

    pool = sobol_pool(space, fb["pool_size"], seed=seed, constraint=constraint)
    data = search_data(config)
    pcfg = PredictorConfig.from_dict(fb["predictor"])
    pretrained = load_proxy(config, proxy) if fb["proxy_pretraining"] else None
    n_trained_epochs = [0]

    # a killed search resumes: each finished candidate's curve is kept in the work folder and
    # the one in training resumes from its checkpoint (the folder goes when the search ends)
    work = out_dir / CANDIDATE_WORK
    identity = {"settings": stable_hash(
        {"fbnetv3": fb, "data": config["data"], "budget": budget, "mode": mode, "seed": seed,
         "proxy": file_sha256(proxy) if fb["proxy_pretraining"] else None}, 16)}
    if work.exists() and (not (work / "identity.json").exists()
                          or read_json(work / "identity.json") != identity):
        if is_writer():  # kept from a search with other settings: not this search's curves
            shutil.rmtree(work, ignore_errors=True)
    write_json(work / "identity.json", identity)

    def train_fn(cands: list[dict], stop_epochs: list[int | None]) -> list[list[float]]:
        curves = []
        for i, (c, stop) in enumerate(zip(cands, stop_epochs, strict=True)):
            key = f"{space.arch_id(c)}-seed{seed * 1000 + i}-stop{stop}"
            done = work / f"{key}.json"
            if done.exists():
                curve = [float(v) for v in read_json(done)]
            else:
                curve = train_candidate(space, c, data, seed=seed * 1000 + i, stop_epoch=stop,
                                        device=config["device"], run_dir=work / key)
                write_json(done, curve)
                if is_writer():
                    shutil.rmtree(work / key, ignore_errors=True)
            n_trained_epochs[0] += len(curve)
            curves.append(curve)
        return curves

    def fit_fn(cands: list[dict], scores: list[float], it: int) -> Any:
        model = train_predictor(space, cands, scores, pcfg, seed=seed * 100 + it,
                                pretrained=pretrained)
        return lambda cs: model.score(space, cs)

    co = fb["coarse"]
    coarse = coarse_search(space, pool, train_fn, fit_fn, batch_size=co["batch_size"],
                           iterations=co["iterations"], threshold=co["threshold"],
                           explore=co["explore"], seed=seed, corr_method=co["corr"],
                           heldout=co["heldout"])
    coarse_s = run.elapsed()
    fi = fb["fine"]
    top = sorted(coarse.entries, key=lambda e: -e["score"])[:fi["n_start"]]
    fine = fine_search(space, coarse.score_fn, start=[e["candidate"] for e in top],
                       constraint=constraint, population=fi["population"],
                       max_generations=fi["max_generations"], patience=fi["patience"],
                       topk=fi["topk"], n_crossover=fi["n_crossover"],
                       n_mutation=fi["n_mutation"], mutation_prob=fi["mutation_prob"], seed=seed)
    write_search_outputs(fine, out_dir / "fine")
    # final pick: the fine stage's top predicted candidates are trained like later coarse
    # candidates (early-stopped); the best measured of them and of the coarse stage wins
    trained_ids = {space.arch_id(e["candidate"]) for e in coarse.entries}
    finalists = []
    for e in sorted(fine.evaluated, key=lambda x: -x["fitness"]):
        if len(finalists) >= fi["verify_top"]:
            break
        if e["arch_id"] not in trained_ids:
            finalists.append(e)
    verified = []
    if finalists:
        curves = train_fn([e["arch"] for e in finalists], [coarse.stop_epoch] * len(finalists))
        for e, cv in zip(finalists, curves, strict=True):
            verified.append({"candidate": e["arch"], "predicted": e["fitness"],
                             "measured": cv[min(coarse.stop_epoch, len(cv)) - 1],
                             "source": "fine"})
    best_coarse = max(coarse.entries, key=lambda e: e["score"])
    verified.append({"candidate": best_coarse["candidate"],
                     "predicted": float(coarse.score_fn([best_coarse["candidate"]])[0]),
                     "measured": best_coarse["score"], "source": "coarse"})
    final = max(verified, key=lambda v: v["measured"])
    best_cand = final["candidate"]
    cost = space.cost(best_cand)
    best = {"arch": best_cand["arch"], "recipe": best_cand["recipe"],
            "predicted": final["predicted"], "measured": final["measured"],
            "source": final["source"], "budget": budget, "mode": mode,
            "macs_limit": limit, "macs": cost.macs, "params": cost.params,
            "arch_id": space.arch_space.arch_id(best_cand["arch"])}
    write_jsonl(out_dir / "finalists.jsonl", verified)
    rows = []
    for e in coarse.entries:
        c = e["candidate"]
        rows.append({**e, "arch_id": space.arch_id(c), "macs": space.cost(c).macs})
    write_jsonl(out_dir / "candidates.jsonl", rows)
    th = co["threshold"]
    _write_csv(out_dir / "early_stop.csv", [
        {"epoch": i + 1, "corr": round(c, 6), "threshold": th,
         "chosen": int(i + 1 == coarse.stop_epoch)} for i, c in enumerate(coarse.corrs)])
    fine_best = max(float(x["fitness"]) for x in fine.evaluated)
    its = [dict(r, stage="coarse") for r in coarse.iterations]
    gens: dict[int, float] = {}
    for x in fine.evaluated:
        gens[x["generation"]] = max(gens.get(x["generation"], -np.inf), x["fitness"])
    run_best = -np.inf
    for g in sorted(gens):
        run_best = max(run_best, gens[g])
        its.append({"iteration": len(coarse.iterations) + g, "n_trained": its[-1]["n_trained"],
                    "best_measured": its[-1]["best_measured"], "best_predicted": run_best,
                    "stage": "fine"})
    _write_csv(out_dir / "coarse.csv", its)
    summary = {
        "budget": budget, "mode": mode, "seed": seed, "macs_limit": limit,
        "pool_size": len(pool), "stop_epoch": coarse.stop_epoch,
        "full_epochs": coarse.full_epochs,
        "early_stop_fraction": coarse.stop_epoch / coarse.full_epochs,
        "corr_at_stop": coarse.corrs[coarse.stop_epoch - 1], "threshold": th,
        "n_trained": len(coarse.entries), "trained_epochs": n_trained_epochs[0],
        "fine_generations": fine.meta.get("stopped_at"), "fine_scored": fine.n_evaluated,
        "fine_best_predicted": fine_best, "coarse_wall_s": round(coarse_s, 3),
    }
    write_json(out_dir / "summary.json", {k: v for k, v in summary.items()
                                          if k != "coarse_wall_s"})
    write_json(out_dir / "best.json", best)
    if is_writer():
        shutil.rmtree(work, ignore_errors=True)
    run.finish(out_dir, config, seed=seed, device=config["device"], dataset_checksum=data.checksum,
               extra={"step": "fbnetv3-search", "budget": budget, "mode": mode,
                      "coarse_wall_s": round(coarse_s, 3)})
    return summary


# --- predictor study ------------------------------------------------------------------------
def predictor_study(config: dict, search_dirs: list[str | Path], proxy: str | Path,
                    out_dir: str | Path) -> None:
    """Held-out ranking quality of each predictor method over ``fbnetv3.predictor_seeds``.

    Data: every candidate the coarse stages of ``search_dirs`` trained, target = its measured
    score (val accuracy at its search's early-stopping epoch). Per predictor seed the data is
    split at random (``predictor_test_fraction`` held out); every method fits on the rest.
    Writes ``predictor_runs.csv`` (seed, method, kendall_tau, spearman, rmse, n_train, n_test)
    and ``predictions.csv`` (held-out measured vs predicted).
    """
    from nasrepro.io import read_jsonl
    from nasrepro.metrics.ranking import kendall_tau, spearman
    from nasrepro.registry import get_method, method_settings

    run = Run()
    out_dir = Path(out_dir)
    fb = config["fbnetv3"]
    space = joint_space(config)
    entries = []
    for d in search_dirs:
        entries += read_jsonl(Path(d) / "candidates.jsonl")
    cands = [e["candidate"] for e in entries]
    y = np.array([e["score"] for e in entries], dtype=np.float64)
    pretrained = load_proxy(config, proxy)
    runs, preds = [], []
    methods = [(m, get_method("predictor", m, paper="fbnetv3"))
               for m in methods_of(config, "fbnetv3", "predictor")]
    typed = {m: method_settings(config, "fbnetv3", "predictor", m) for m, _ in methods}
    for pseed in fb["predictor_seeds"]:
        rng = random.Random(f"predictor-split-{pseed}")
        idx = list(range(len(cands)))
        rng.shuffle(idx)
        n_test = max(3, int(round(fb["predictor_test_fraction"] * len(idx))))
        test, train = idx[:n_test], idx[n_test:]
        for name, entry in methods:
            score = entry.factory(space, [cands[i] for i in train], y[train].tolist(),
                                  seed=int(pseed), pretrained=pretrained,
                                  settings=typed[name])
            p = np.asarray(score([cands[i] for i in test]), dtype=np.float64)
            t = y[test]
            runs.append({"seed": pseed, "method": name, "kendall_tau": kendall_tau(p, t),
                         "spearman": spearman(p, t),
                         "rmse": float(np.sqrt(np.mean((p - t) ** 2))),
                         "n_train": len(train), "n_test": len(test)})
            preds += [{"seed": pseed, "method": name, "index": i, "measured": float(mv),
                       "predicted": float(pv)} for i, mv, pv in zip(test, t, p, strict=True)]
    _write_csv(out_dir / "predictor_runs.csv", runs)
    _write_csv(out_dir / "predictions.csv", preds)
    run.finish(out_dir, config, seed=None, device="cpu",
               extra={"step": "fbnetv3-predictor", "search_dirs": [str(d) for d in search_dirs]})


# --- retraining -----------------------------------------------------------------------------
class _RecipeNetSpace:
    """Delegates to the arch space, building nets with the recipe's dropout."""

    def __init__(self, space: Any, dropout: float) -> None:
        self._space, self._dropout = space, dropout

    def build(self, arch: dict) -> torch.nn.Module:
        return self._space.build(arch, dropout=self._dropout)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._space, name)


def role_spec(config: dict, role: str, index: int, arch_from: str | Path | None = None,
              recipe_from: str | Path | None = None) -> dict:
    """``{"arch", "recipe", "seed", "role", "index"}`` of one retrain run.

    ``arch_from`` / ``recipe_from``: a search's run directory (its ``best.json``), or ``None``
    for AutoTrain's fixed arch / the default recipe.
    """
    kind = role.split("/", 1)[0]
    if kind not in ("swap", "autotrain", "search"):
        raise UnknownNameError(f"unknown fbnetv3 role {role!r}; use swap/..., autotrain/... or "
                               f"search/...")
    seeds = role_retrain_seeds(config, role)
    if not 0 <= index < len(seeds):
        raise ConfigError(f"--index {index} is out of range: role {role} has runs "
                          f"0..{len(seeds) - 1} ({len(seeds)} {role_seeds_key(role)}); pass an "
                          f"index in that range")
    arch = read_json(Path(arch_from) / "best.json")["arch"] if arch_from else autotrain_arch(config)
    recipe = (read_json(Path(recipe_from) / "best.json")["recipe"] if recipe_from
              else default_recipe(config))
    return {"arch": arch_space(config).validate(arch),
            "recipe": recipe_space(config).validate(recipe),
            "seed": seeds[index], "role": role, "index": index}


def retrain_setup(config: dict, spec: dict | None = None) -> tuple[Any, dict]:
    """The arch space and the default recipe's training config (generic ``retrain``)."""
    return arch_space(config), recipe_space(config).train_config(default_recipe(config))


def retrain(config: dict, role: str, index: int, arch_from: str | None, recipe_from: str | None,
            out_dir: str | Path) -> dict:
    """Retrain the role's arch from scratch with its recipe (full train split, test top-1)."""
    from nasrepro.experiments.common import retrain_arch

    spec = role_spec(config, role, index, arch_from, recipe_from)
    rec = recipe_space(config)
    write_json(Path(out_dir) / "arch.json", spec)
    space = _RecipeNetSpace(arch_space(config), rec.dropout(spec["recipe"]))
    return retrain_arch(config, space, spec["arch"], rec.train_config(spec["recipe"]),
                        seed=spec["seed"], out_dir=out_dir,
                        extra={"role": role, "index": index, "recipe": spec["recipe"]})


# --- stages -----------------------------------------------------------------------------------
def _search_stage(config: dict, cell: str, seed: int, out: Path, inputs: Inputs) -> None:
    budget, mode = cell_parts(PAPER, "search", cell.replace("_", "/", 1), ("budget", "mode"))
    if budget not in BUDGETS or mode not in MODES:
        raise UnknownNameError(f"cell {cell!r} of fbnetv3 search is not <budget>_<mode> with "
                               f"budget in {', '.join(BUDGETS)} and mode in {', '.join(MODES)}")
    inputs.allow("proxy")
    run_search(config, budget, mode, inputs.one("proxy", "the pretrained proxy.pt"), seed, out)


def _retrain_stage(config: dict, cell: str, seed: int | None, out: Path,
                   inputs: Inputs) -> None:
    """Retrain role ``cell`` at ``seed`` (one of the role's seeds) into ``out``."""
    inputs.allow("arch", "recipe")
    arch_from, recipe_from = inputs.optional_run("arch"), inputs.optional_run("recipe")
    sources = role_sources(config)
    if cell not in sources:
        raise UnknownNameError(f"unknown fbnetv3 retrain role {cell!r}; known: "
                               f"{', '.join(sources)} (fbnetv3.replicate_search_seeds adds every "
                               f"role again as <role>_s<k>)")
    for name, source, given in zip(("arch", "recipe"), sources[cell],
                                   (arch_from, recipe_from), strict=True):
        if bool(source) != (given is not None):
            raise ConfigError(f"role {cell} takes its {name} from "
                              + (f"search {source}: pass --input {name}=DIR (its run directory)"
                                 if source else "its default: drop --input " + name))
    index = seed_index(role_retrain_seeds(config, cell), seed, cell, role_seeds_key(cell))
    retrain(config, cell, index, arch_from, recipe_from, out)


def _pretrain_study(config: dict, out: Path, inputs: Inputs) -> None:
    inputs.allow()
    pretrain(config, out)


def _predictor_study(config: dict, out: Path, inputs: Inputs) -> None:
    searches = inputs.allow("proxy", "search").runs("search", "the joint searches' runs")
    predictor_study(config, searches,
                    inputs.one("proxy", "the pretrained proxy.pt"), out)


#: the stages and studies of the CLI vocabulary (:mod:`nasrepro.stages`)
STAGES = {"search": _search_stage, "retrain": _retrain_stage}
STUDIES = {"pretrain": _pretrain_study, "predictor": _predictor_study}
