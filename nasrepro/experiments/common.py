"""Steps shared by every paper: data splits, loading the data bundle, retraining an arch.

These are what the generic rules (``data``, ``retrain``) call through the CLI. Every step
writes into its own run directory with ``config.resolved.yaml`` and ``provenance.json``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import torch

from nasrepro.errors import ConfigError, DataError, MissingInputError
from nasrepro.harness import Run
from nasrepro.io import read_json, write_json
from nasrepro.spaces.base import SearchSpace


def set_threads(config: dict) -> None:
    """Pin torch's intra/inter-op threads to the config's ``threads`` (per Snakemake job), turn
    deterministic algorithms on and pick the convolution kernels of its ``cpu_isa``
    (:mod:`nasrepro.determinism`)."""
    from nasrepro.determinism import pin_torch

    pin_torch(int(config.get("threads", 1)), config.get("device", "cpu"),
              str(config.get("cpu_isa", "avx2")))


def check_device(device: str) -> None:
    """The configured torch device exists here; else a one-line ConfigError (before a job
    writes anything)."""
    if not str(device).startswith("cuda"):
        return
    fix = ("set device: cpu (--config device=cpu) or run on a machine with a GPU and a CUDA "
           "build of torch")
    if torch.version.cuda is None:
        raise ConfigError(f"device '{device}' but torch {torch.__version__} is a CPU-only build; "
                          f"{fix}")
    if not torch.cuda.is_available():
        raise ConfigError(f"device '{device}' but torch sees no CUDA GPU; {fix}")
    index = int(device.split(":", 1)[1]) if ":" in device else 0
    if index >= torch.cuda.device_count():
        raise ConfigError(f"device '{device}' but only {torch.cuda.device_count()} CUDA GPU(s) "
                          f"are visible; use cuda:0..{torch.cuda.device_count() - 1}")


def producing_rule(config: dict, path: str | Path) -> str | None:
    """The Snakemake rule that writes ``path`` (a file of ``results/<profile>/``), or None.

    Run directories follow the one grammar ``<paper>/<stage>/<cell>/seed<s>/``
    (:mod:`nasrepro.paths`): the rule is ``<paper>_<stage>`` (``<paper>_<name>`` for a study),
    made for every paper and stage by ``workflow/rules/stages.smk``.
    """
    from nasrepro.config import PAPERS, profile_dir
    from nasrepro.paths import DATA_DIR, STAGES, data_table_path
    from nasrepro.reporting.tables import DATA_TABLES

    try:
        parts = Path(path).resolve().relative_to(profile_dir(config).resolve()).parts
    except ValueError:
        return None
    if not parts:
        return None
    head, name = parts[0], parts[-1]
    if head == "config.resolved.yaml" and len(parts) == 1:
        return "resolved_config"
    if head == "data":
        return "data"
    if head == DATA_DIR and len(parts) == 2:  # the cross-paper tables
        stem = name.split(".")[0]
        if stem in ("claims", "leaderboard"):
            return stem
        data = {data_table_path(p, n) for p in PAPERS for n in DATA_TABLES}
        return "tables" if "/".join(parts) in data else None
    if head in PAPERS and len(parts) >= 2 and parts[1] in ("tables", "figures"):
        return parts[1]  # rules tables and figures ({paper} wildcard)
    if head not in PAPERS or len(parts) < 4 or parts[1] not in STAGES:
        return None
    return f"{head}_{parts[2]}" if parts[1] == "study" else f"{head}_{parts[1]}"


def require_input(config: dict, path: str | Path) -> Path:
    """``path`` if it exists (a run directory: if it is finished, i.e. has its
    ``provenance.json``), else a :class:`MissingInputError` naming the rule that makes it."""
    from nasrepro.paths import PROVENANCE

    path = Path(path)
    if not path.exists():
        raise MissingInputError(missing_input_message(config, path))
    if path.is_dir() and not (path / PROVENANCE).exists():
        raise MissingInputError(missing_input_message(config, path / PROVENANCE).replace(
            "missing input", "unfinished run (no provenance.json):", 1))
    return path


def missing_input_message(config: dict | None, path: str | Path) -> str:
    """``missing input X; it is made by rule R: run `snakemake X ...` first`` (one line)."""
    rule = producing_rule(config, path) if config else None
    if rule is None:
        return f"missing input {path}; make or restore it, then rerun"
    where = "" if config["results_dir"] == "results" else f" results_dir={config['results_dir']}"
    from nasrepro.config import PAPERS
    from nasrepro.paths import PROVENANCE

    target = Path(path)  # a file in a paper's tables/figures folder: the folder is the target
    target = next((p for p in (target, *target.parents)
                   if p.name in ("tables", "figures") and p.parent.name in PAPERS), target)
    if target.name.startswith("seed") and target.name[4:].isdigit():  # a run directory
        target = target / PROVENANCE  # the file its rule declares
    return (f"missing input {path}; it is made by rule {rule}: run `snakemake {target} --config "
            f"profile={config['profile']}{where}` (or the whole DAG) first")


def splits_path(config: dict) -> Path:
    """``results/<profile>/data/<dataset>/splits.json``."""
    from nasrepro.config import profile_dir

    return profile_dir(config) / "data" / config["data"]["dataset"] / "splits.json"


def _make_imagenet_splits(config: dict, out: Path) -> dict:
    """The ImageNet folder's index and the papers' splits (:mod:`nasrepro.data.imagenet`)."""
    from nasrepro.data.imagenet import index_folder, make_imagenet_splits

    run = Run()
    dcfg = config["data"]
    if not dcfg.get("path"):
        raise DataError("data.path is not set; point it at the ImageNet folder (train/<wnid>/ "
                        "and val/<wnid>/)")
    index = index_folder(dcfg["path"])
    splits = make_imagenet_splits(index, seed=dcfg["split_seed"], val_size=dcfg["val_size"],
                                  n_classes=dcfg.get("n_classes"),
                                  test_size=dcfg.get("test_size"))
    write_json(out, splits, indent=None)
    print(f"data: imagenet folder {index.root}: {len(index.classes)} classes, "
          f"{len(index.train)} train / {len(index.val)} val images -> {out}", file=sys.stderr)
    run.finish(out.parent, config, seed=dcfg["split_seed"], device="cpu",
               dataset_checksum=index.checksum,
               extra={"data_source": str(index.root), "n_classes": len(splits["classes"]),
                      "n_train": len(splits["train"]), "n_val": len(splits["val"]),
                      "n_test": len(splits["test"])})
    return splits


def make_data_splits(config: dict, out: str | Path) -> dict:
    """Load (fetch) the dataset, check it, make the fixed splits and write them to ``out``
    (ImageNet: index the folder, see :func:`_make_imagenet_splits`)."""
    from nasrepro.data import load_dataset, make_splits

    dcfg = config["data"]
    if dcfg["dataset"] == "imagenet":
        return _make_imagenet_splits(config, Path(out))
    run = Run()
    ds = load_dataset(dcfg["dataset"], dcfg.get("path"))
    splits = make_splits(ds, seed=dcfg["split_seed"], val_size=dcfg["val_size"],
                         train_size=dcfg.get("train_size"), test_size=dcfg.get("test_size"))
    out = Path(out)
    write_json(out, splits, indent=None)
    print(f"data: {dcfg['dataset']} from {ds.source} -> {out}", file=sys.stderr)
    run.finish(out.parent, config, seed=dcfg["split_seed"], device="cpu",
               dataset_checksum=ds.checksum, extra={"data_source": ds.source})
    return splits


def _load_imagenet(config: dict, splits: dict) -> Any:
    """The ImageNet folder's splits as streamed images (:func:`nasrepro.data.imagenet.
    imagenet_bundle`); the folder is indexed again and checked against the splits."""
    from nasrepro.data.imagenet import imagenet_bundle, index_folder

    dcfg = config["data"]
    if not dcfg.get("path"):
        raise DataError("data.path is not set; point it at the ImageNet folder (train/<wnid>/ "
                        "and val/<wnid>/)")
    return imagenet_bundle(index_folder(dcfg["path"]), splits, image_size=dcfg["image_size"],
                           jitter=dcfg["color_jitter"], lighting=dcfg["lighting"],
                           workers=dcfg["workers"], device=config["device"],
                           decoder=dcfg["decoder"])


def load_data(config: dict, splits_file: str | Path | None = None) -> Any:
    """The profile's :class:`nasrepro.data.DataBundle` on the configured device (ImageNet:
    streamed from its folder, :mod:`nasrepro.data.stream`)."""
    from nasrepro.data import load_dataset, prepare

    dcfg = config["data"]
    path = Path(splits_file) if splits_file else splits_path(config)
    if not path.exists():
        raise MissingInputError(missing_input_message(config, path))
    splits = read_json(path)
    if dcfg["dataset"] == "imagenet":
        return _load_imagenet(config, splits)
    ds = load_dataset(dcfg["dataset"], dcfg.get("path"))
    return prepare(ds, splits, device=config["device"], resize=dcfg.get("resize"))


def check_space_matches_data(space: SearchSpace, data: Any) -> None:
    """The preset's input shape and classes must fit the dataset."""
    if tuple(space.input_shape) != tuple(data.input_shape):
        raise ConfigError(
            f"preset {space.full_name} expects input {tuple(space.input_shape)} but the dataset "
            f"gives {tuple(data.input_shape)}; pick a preset made for this dataset "
            f"(`nasrepro spaces`) or set data.resize"
        )
    n_cls = space.settings.get("num_classes")
    if n_cls is not None and n_cls != data.num_classes:
        raise ConfigError(f"preset {space.full_name} has {n_cls} classes but the dataset has "
                          f"{data.num_classes}; pick a matching preset")


def retrain_arch(config: dict, space: SearchSpace, arch: dict, train_cfg: dict, *, seed: int,
                 out_dir: str | Path, extra: dict | None = None) -> dict:
    """Train ``arch``'s standalone network from scratch; write metrics.json, log.csv.

    Returns the metrics dict (top-1 in %, on the val and test splits, at the last epoch).
    """
    from nasrepro.evaluation import accuracy
    from nasrepro.training import TrainConfig, train

    run = Run()
    out_dir = Path(out_dir)
    data = load_data(config)
    check_space_matches_data(space, data)
    arch = space.validate(arch)
    cfg = TrainConfig.from_dict(train_cfg)
    torch.manual_seed(seed)
    model = space.build(arch).to(config["device"])

    def eval_fn(m: torch.nn.Module) -> dict[str, float]:
        return {"val_acc": 100.0 * accuracy(m, data.val_x, data.val_y)}

    rows = train(model, data, cfg, seed=seed, run_dir=out_dir, eval_fn=eval_fn,
                 progress=config.get("progress", True), desc=f"retrain {space.arch_id(arch)}")
    cost = space.cost(arch)
    metrics = {
        "arch": arch,
        "arch_id": space.arch_id(arch),
        "space": space.full_name,
        "seed": seed,
        "macs": cost.macs,
        "params": cost.params,
        "epochs": cfg.epochs,
        "val_acc": float(rows[-1]["val_acc"]),
        "test_acc": 100.0 * accuracy(model, data.test_x, data.test_y),
    }
    if extra:
        metrics.update(extra)
    write_json(out_dir / "metrics.json", metrics)
    run.finish(out_dir, config, seed=seed, device=config["device"], dataset_checksum=data.checksum)
    return metrics
