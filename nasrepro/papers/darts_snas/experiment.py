"""SNAS vs DARTS experiments (PAPERS.md section 2): searches on one cell space, then retraining.

One space (``darts``), one search supernet, two relaxations, one trainer
(:func:`nasrepro.training.train`), one evaluator (:mod:`nasrepro.evaluation`):

* a *group* is one search method with one setting: ``darts-1st``, ``darts-2nd``, ``snas:<level>``
  (penalty level none / mild / moderate / aggressive, lambda from ``penalty_lambdas``), or a
  baseline (``random-cell``). Its directory name replaces ``:`` by ``-`` (``snas-mild``).
* search (``nasrepro search --paper darts_snas --cell <group> --seed s``): trains the search
  supernet and the architecture logits with the group's step strategy, each at its own official
  protocol: DARTS cuts the training split in two halves (Sec. 3.1: weights on the first, the
  architecture step's batches from the second); SNAS is single level and trains weights and
  architecture on the whole training split (SNAS-Series ``train_search.py``; ``snas_search_data:
  half`` restricts it to the DARTS weight half). After each epoch it logs (``log.csv``) the
  supernet's val accuracy (DARTS: ``softmax(alpha)``; SNAS: a Gumbel sample per evaluation batch,
  as the official ``infer``, with the noise-free ``softmax(log_alpha / tau)`` as
  ``supernet_val_acc_noise_free``), the derived child's val accuracy with the inherited weights
  and no retraining (``child_val_acc``; and after BN recalibration, ``child_val_acc_recal``), its
  params/MACs and edges kept, the distribution's entropy and expected params/MACs, and writes the
  derived arch of every epoch to ``archs.jsonl`` and the final one to ``final.json``. Search cost
  = the job's wall time (``provenance.json``).
* retrain (``nasrepro retrain --paper darts_snas --cell <group> --seed s --input search=DIR``):
  the final cell of the group's search at seed ``s`` (or random cell ``i``, ``s`` the i-th
  retrain seed), from scratch with the
  evaluation protocol (cutout, drop path, auxiliary head) on the retrain preset.

Scaled-down protocol (the CPU profiles): a small search preset, optionally on images
downsampled to ``search_input_size`` (the retraining always uses the dataset's resolution), few
epochs with a cap on steps per epoch, and per-epoch evaluation on the first ``eval_size``
validation images; the config comments say what differs from the papers.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from nasrepro.config import methods_of, seeds_of
from nasrepro.errors import ConfigError, UnknownNameError
from nasrepro.harness import Run
from nasrepro.io import read_json, write_json, write_text
from nasrepro.papers.darts_snas.grid import retrain_seeds
from nasrepro.registry import get_method, method_settings
from nasrepro.spaces import SearchSpace, get_space
from nasrepro.stages import Inputs, retrain_spec, seed_index

PAPER = "darts_snas"
LEVELS = ("none", "mild", "moderate", "aggressive")


# --------------------------------------------------------------------------- groups


@dataclasses.dataclass(frozen=True)
class Group:
    """One search (or baseline) setting of the paper's tables.

    Attributes:
        method: the registered method name.
        kind: ``relaxation`` (a differentiable search) or ``searcher`` (a baseline without
            a supernet).
        level: the penalty level (``snas`` only), else None.
    """

    method: str
    kind: str
    level: str | None = None

    @property
    def label(self) -> str:
        """Name in tables and the measurements CSV (``snas:mild``)."""
        return f"{self.method}:{self.level}" if self.level else self.method

    @property
    def dirname(self) -> str:
        """Directory name (``snas-mild``)."""
        return f"{self.method}-{self.level}" if self.level else self.method


def groups(config: dict) -> list[Group]:
    """Every group of the profile: the ``darts_snas.methods.relaxation`` searches (``snas``
    once per level of ``darts_snas.snas_levels``), then the ``methods.searcher`` baselines
    (random cells: no supernet), in config order."""
    dc = config[PAPER]
    out = []
    for kind in ("relaxation", "searcher"):
        for name in methods_of(config, PAPER, kind):
            get_method(kind, name, paper=PAPER)  # unknown names: a one-line error
            if name == "snas":
                for level in dc["snas_levels"]:
                    if level not in dc["penalty_lambdas"]:
                        raise ConfigError(f"darts_snas.snas_levels has '{level}' but "
                                          f"darts_snas.penalty_lambdas has no such key; add it")
                    out.append(Group(name, kind, level))
            else:
                out.append(Group(name, kind))
    return out


def group_of(config: dict, dirname_or_label: str) -> Group:
    """The group named ``dirname_or_label`` (``snas-mild`` or ``snas:mild``)."""
    for g in groups(config):
        if dirname_or_label in (g.dirname, g.label):
            return g
    raise UnknownNameError(f"unknown darts_snas group '{dirname_or_label}'; known: "
                           f"{', '.join(g.dirname for g in groups(config))}")


# --------------------------------------------------------------------------- spaces and data


def search_space(config: dict) -> SearchSpace:
    """The search supernet's space (``search_space`` + ``search_settings`` overrides)."""
    dc = config[PAPER]
    settings = dict(dc["search_settings"])
    if dc["search_input_size"]:
        settings["input_size"] = int(dc["search_input_size"])
    return get_space(dc["search_space"], **settings)


def retrain_space(config: dict, group: Group | None = None) -> SearchSpace:
    """The evaluation network's space (``retrain_space`` + ``retrain_settings``); a SNAS
    group's child networks follow every pool with a BN (official SNAS ``operations.py``) when
    ``snas_retrain_pool_bn`` is on."""
    dc = config[PAPER]
    settings = dict(dc["retrain_settings"])
    if group is not None and group.method == "snas" and dc["snas_retrain_pool_bn"]:
        settings.setdefault("pool_bn", True)
    return get_space(dc["retrain_space"], **settings)


def name_checks(config: dict) -> list[tuple[str, Any]]:
    """(config key, check) for every registered name the ``darts_snas`` section gives (run by
    the Snakefile before any job, :func:`nasrepro.config.check_names`)."""
    return [("darts_snas.methods", lambda: groups(config)),  # both kinds, in table order
            ("darts_snas.search_space", lambda: search_space(config)),
            ("darts_snas.retrain_space", lambda: retrain_space(config))]


def _resize(x: torch.Tensor, size: int) -> torch.Tensor:
    if x.shape[-1] == size and x.shape[-2] == size:
        return x
    return F.interpolate(x, size=(size, size), mode="bilinear", antialias=True,
                         align_corners=False)


def search_data(config: dict, space: SearchSpace, group: Group | None = None
                ) -> tuple[Any, Any, Any]:
    """``(search, eval, full)`` data bundles.

    ``search``: train_x/train_y = first half of the training split (weights), val_x/val_y =
    second half (DARTS's architecture batches); for a SNAS group with ``snas_search_data:
    full`` (official), train_x/train_y = the whole training split (single level: the second
    half is then unused). ``eval``: val_x/val_y = the first ``eval_size``
    images of the validation split (per-epoch accuracies); images resized to the search
    preset's input size when ``search_input_size`` is set. ``full``: the untouched bundle.
    """
    from nasrepro.experiments.common import check_space_matches_data, load_data

    full = load_data(config)
    size = space.input_shape[-1]
    resize = config[PAPER]["search_input_size"]

    def prep(x: torch.Tensor) -> torch.Tensor:
        return _resize(x, size) if resize else x

    tx, vx = prep(full.train_x), prep(full.val_x)
    shape = tuple(tx.shape[1:])
    n = tx.shape[0] // 2
    if n < 1:
        raise ConfigError("the training split has fewer than 2 images; DARTS needs two halves")
    whole = (group is not None and group.method == "snas"
             and config[PAPER]["snas_search_data"] == "full")
    w = tx.shape[0] if whole else n  # images the weights (and SNAS's alpha) train on
    search = dataclasses.replace(full, train_x=tx[:w], train_y=full.train_y[:w],
                                 val_x=tx[n:], val_y=full.train_y[n:], input_shape=shape)
    m = min(int(config[PAPER]["eval_size"]), vx.shape[0])
    ev = dataclasses.replace(full, train_x=tx[:w], train_y=full.train_y[:w], val_x=vx[:m],
                             val_y=full.val_y[:m], input_shape=shape)
    check_space_matches_data(space, search)
    return search, ev, full


# --------------------------------------------------------------------------- search


def _search_train_config(config: dict, group: Group) -> tuple[dict, int]:
    dc = config[PAPER]
    cfg = dict(dc["search"])
    if group.method == "snas":
        if dc["snas_epochs"]:
            cfg["epochs"] = int(dc["snas_epochs"])
        if dc["snas_drop_path"]:
            cfg["drop_path"] = float(dc["snas_drop_path"])
            cfg["drop_path_schedule"] = "constant"
    return cfg, int(cfg["epochs"])


def child_metrics(model: torch.nn.Module, space: SearchSpace, arch: dict, ev: Any,
                  recalib_batches: int, recalib_batch_size: int, batch_size: int
                  ) -> dict[str, float]:
    """Val accuracy (%) of ``arch``'s child network inside the supernet with the inherited
    weights: with the supernet's BN statistics (``child_val_acc``) and after BN
    recalibration on training batches (``child_val_acc_recal``)."""
    from nasrepro.evaluation import accuracy, evaluate_subnets

    weights = space.arch_weights(arch, device=ev.val_x.device)
    plain = accuracy(model, ev.val_x, ev.val_y, batch_size=batch_size,
                     forward=lambda m, x: m(x, weights))
    recal = evaluate_subnets(model, [arch], recalib_x=ev.train_x, eval_x=ev.val_x,
                             eval_y=ev.val_y, recalib_batches=max(1, recalib_batches),
                             batch_size=recalib_batch_size, eval_batch_size=batch_size,
                             forward=lambda m, x, a: m(x, weights))[0]
    return {"child_val_acc": 100.0 * plain, "child_val_acc_recal": 100.0 * recal}


def run_group_search(config: dict, group_name: str, seed: int, out_dir: str | Path) -> dict:
    """Search with one group and seed; write log.csv, archs.jsonl, final.json, provenance.

    Returns the content of ``final.json``.
    """
    from nasrepro.evaluation import accuracy
    from nasrepro.samplers.darts_search import derived_arch, snas_cost_table
    from nasrepro.training import TrainConfig, train

    run = Run()
    out_dir = Path(out_dir)
    group = group_of(config, group_name)
    if group.kind != "relaxation":
        raise ConfigError(f"group '{group.label}' is a baseline and has no search; it is only "
                          f"retrained (nasrepro retrain --paper darts_snas --role {group.dirname})")
    dc = config[PAPER]
    space = search_space(config)
    data, ev, full = search_data(config, space, group)
    train_cfg, epochs = _search_train_config(config, group)
    cfg = TrainConfig.from_dict(train_cfg)
    costs = snas_cost_table(space)
    lam = float(dc["penalty_lambdas"][group.level]) if group.level else 0.0
    entry = get_method("relaxation", group.method, paper=PAPER)
    settings = method_settings(config, PAPER, "relaxation", group.method)
    step = entry.factory(space, seed=seed, settings=settings, epochs=epochs, edge_costs=costs,
                         penalty_lambda=lam)
    step.arch.to(config["device"])
    torch.manual_seed(seed)
    model = space.build_supernet(torch.Generator().manual_seed(seed)).to(config["device"])
    for m in model.modules():  # scaled-down runs: BN running stats must catch up in few steps
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.momentum = float(dc["search_bn_momentum"])
    bs = int(dc["eval_batch_size"])

    def eval_fn(m: torch.nn.Module) -> dict[str, Any]:
        w = step.eval_weights()
        plain = 100.0 * accuracy(m, ev.val_x, ev.val_y, batch_size=bs,
                                 forward=lambda mm, x: mm(x, w))
        row: dict[str, Any] = {"supernet_val_acc": plain}
        if hasattr(step, "sample_eval_weights"):  # SNAS: a Gumbel sample per batch (official)
            gen = step.eval_generator()
            row["supernet_val_acc"] = 100.0 * accuracy(
                m, ev.val_x, ev.val_y, batch_size=bs,
                forward=lambda mm, x: mm(x, step.sample_eval_weights(gen)))
            row["supernet_val_acc_noise_free"] = plain
        arch = space.validate(derived_arch(step.arch, step.rule))
        row.update(child_metrics(m, space, arch, ev, dc["recalib_batches"],
                                 dc["recalib_batch_size"], bs))
        c = space.cost(arch)
        row.update({"child_params": c.params, "child_macs": c.macs,
                    "edges_kept": sum(len(arch[k]) for k in ("normal", "reduce")),
                    "arch": json.dumps(arch, separators=(",", ":"))})
        return row

    rows = train(model, data, cfg, seed=seed, run_dir=out_dir, step=step, eval_fn=eval_fn,
                 extra_config={"group": group.label, "penalty_lambda": lam,
                               "method_settings": {k: dc[k] for k in sorted(dc) if k not in
                                                   ("retrain", "methods", "snas_levels")}},
                 progress=config.get("progress", True), desc=f"search {group.label}/s{seed}")
    archs = []
    for r in rows:
        arch = json.loads(r["arch"])
        archs.append({"epoch": r["epoch"], "arch": arch, "arch_id": space.arch_id(arch),
                      "child_params": r["child_params"], "child_macs": r["child_macs"],
                      "edges_kept": r["edges_kept"]})
    write_text(out_dir / "archs.jsonl", "".join(json.dumps(a) + "\n" for a in archs))
    last = rows[-1]
    final = {
        "group": group.label, "method": group.method, "level": group.level,
        "penalty_lambda": lam, "seed": seed, "epochs": epochs,
        "arch": archs[-1]["arch"], "arch_id": archs[-1]["arch_id"],
        "rule": step.rule,
        "supernet_val_acc": last["supernet_val_acc"], "child_val_acc": last["child_val_acc"],
        "supernet_val_acc_noise_free": last.get("supernet_val_acc_noise_free"),
        "child_val_acc_recal": last["child_val_acc_recal"],
        "child_drop": last["supernet_val_acc"] - last["child_val_acc"],
        "final_entropy": last["entropy"], "child_params": last["child_params"],
        "child_macs": last["child_macs"], "edges_kept": last["edges_kept"],
        "expected_params": last.get("expected_params"),
        "expected_macs": last.get("expected_macs"),
        "alpha": {k: v.detach().cpu().tolist() for k, v in step.arch.logits().items()},
    }
    write_json(out_dir / "final.json", final)
    run.finish(out_dir, config, seed=seed, device=config["device"], dataset_checksum=full.checksum,
               extra={"group": group.label, "penalty_lambda": lam})
    return final


# --------------------------------------------------------------------------- retraining


def role_spec(config: dict, role: str, index: int,
              search_run: str | Path | None = None) -> dict:
    """``{"arch", "seed", "role", "index", "group"}`` of retrain run ``index`` of a group (a
    searched group: the derived cell of ``search_run/final.json``)."""
    group = group_of(config, role)
    seeds = seeds_of(config, PAPER, "retrain_seeds", "seeds")
    if not 0 <= index < len(seeds):
        raise ConfigError(f"--index {index} is out of range; there are {len(seeds)} retrain "
                          "seeds (darts_snas.retrain_seeds, else darts_snas.seeds, else the "
                          "profile's seeds)")
    seed = seeds[index]
    if group.kind == "searcher":
        entry = get_method("searcher", group.method, paper=PAPER)
        settings = method_settings(config, PAPER, "searcher", group.method)
        result = entry.factory(retrain_space(config, group), None, 1, constraint=None,
                               seed=index, settings=settings, progress=False)
        arch = result.best["arch"]
    else:
        if search_run is None:
            raise ConfigError(f"group {role} needs --input search=DIR (its search's run "
                              "directory)")
        arch = read_json(Path(search_run) / "final.json")["arch"]
    return {"arch": arch, "seed": seed, "role": group.dirname, "index": index,
            "group": group.label}


def retrain_setup(config: dict, spec: dict | None = None) -> tuple[SearchSpace, dict]:
    """The evaluation network's space (of the role's group, see :func:`retrain_space`) and its
    recipe (``retrain`` + ``retrain_drop_path``; the auxiliary head's loss weight 0.4 is the
    loop's default)."""
    dc = config[PAPER]
    group = group_of(config, spec["role"]) if spec and spec.get("role") else None
    cfg = dict(dc["retrain"])
    if dc["retrain_drop_path"]:
        cfg["drop_path"] = float(dc["retrain_drop_path"])
    return retrain_space(config, group), cfg


# --------------------------------------------------------------------------- stages
def _search_stage(config: dict, cell: str, seed: int, out: Path, inputs: Inputs) -> None:
    """The search of group ``cell`` (it trains its own supernet: DARTS/SNAS have no separate
    train_supernet stage)."""
    inputs.allow()
    run_group_search(config, cell, seed, out)


def _retrain_stage(config: dict, cell: str, seed: int | None, out: Path, inputs: Inputs) -> None:
    index = seed_index(retrain_seeds(config), seed, cell,
                       "darts_snas.retrain_seeds, else darts_snas.seeds, else the profile's")
    spec = role_spec(config, cell, index, inputs.allow("search").optional_run("search"))
    space, train_cfg = retrain_setup(config, spec)
    retrain_spec(config, space, train_cfg, spec, out)


#: the stages of the CLI vocabulary (:mod:`nasrepro.stages`)
STAGES = {"search": _search_stage, "retrain": _retrain_stage}
STUDIES: dict = {}
