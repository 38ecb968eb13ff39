"""The stages every paper's jobs run, behind one command-line vocabulary (issue 14).

::

    nasrepro train-supernet --paper P --cell C --seed S --out DIR [--input NAME=PATH ...]
    nasrepro search         --paper P --cell C --seed S --out DIR [--input NAME=PATH ...]
    nasrepro retrain        --paper P --cell C --seed S --out DIR [--input NAME=PATH ...]
    nasrepro study P NAME --out DIR [--input NAME=PATH ...]

Only the paper interprets its cell (``spos``: ``block/uniform``, ``block/uniform/evolution``,
the retrain role ``fixed/all_choice_3``; ``darts_snas``: the group ``snas-mild``;
``attentivenas``: ``main/bestup``; ``fbnetv3``: ``A_joint``, ``swap/A_recipeB``). Each paper's
``nasrepro.papers.<p>.experiment`` declares what it runs:

* ``STAGES``: ``{stage: fn(config, cell, seed, out, inputs)}`` for the stages it has (a paper
  without a stage has no entry: asking for it is a one-line error listing the ones it has);
* ``STUDIES``: ``{name: fn(config, out, inputs)}``, the paper's own steps (SPOS inherit,
  AttentiveNAS prior and predictor, FBNetV3 pretrain and predictor).

Every file a job reads is on its command line as ``--input NAME=PATH`` (a name may repeat:
a list): another stage's run directory (the job reads its files: :meth:`Inputs.run`) or a
study's file; the CLI checks that each exists, a run directory that it is finished (has its
``provenance.json``), before the job starts (a missing one is a one-line error naming the rule
that makes it). The run directory ``--out`` follows the one path grammar of
:mod:`nasrepro.paths`.

Each paper's ``nasrepro.papers.<p>.grid`` (torch-free) says what runs, for the rules
``<paper>_<stage>`` that one definition in ``workflow/rules/stages.smk`` makes for every paper
and stage:

* ``runs(config, stage) -> [(cell, seed), ...]``: every run of the stage (none: no rule);
* ``run_inputs(config, stage, cell, seed) -> {name: path or [paths]}``: what that run reads,
  relative to ``results/<profile>`` (another run as :func:`nasrepro.paths.finished` of its
  directory, i.e. its ``provenance.json``, which the rule declares as its output);
* ``table_inputs(config)`` / ``figure_inputs(config) -> [path, ...]``: what the paper's tables
  and figures read (rules ``tables`` and ``figures``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nasrepro.errors import ConfigError, UnknownNameError
from nasrepro.paths import PROVENANCE


class Inputs(dict):
    """``--input NAME=PATH`` values by name (each a list of paths, in command-line order)."""

    @classmethod
    def parse(cls, items: Sequence[str] | None) -> Inputs:
        inputs = cls()
        for item in items or ():
            name, sep, path = item.partition("=")
            if not sep or not name or not path:
                raise ConfigError(f"--input {item!r} is not NAME=PATH (e.g. --input "
                                  "supernet=results/tiny/spos/train_supernet/block/uniform/seed0)")
            inputs.setdefault(name, []).append(path)
        return inputs

    def one(self, name: str, what: str) -> Path:
        """The single path of ``name``; a one-line error when it is not given."""
        paths = self.get(name) or []
        if len(paths) != 1:
            given = "not given" if not paths else f"given {len(paths)} times"
            raise ConfigError(f"--input {name}=PATH ({what}) is {given}; pass it once")
        return Path(paths[0])

    def optional(self, name: str) -> Path | None:
        """The path of ``name``, or None when it is not given (an error when given twice)."""
        paths = self.get(name) or []
        if len(paths) > 1:
            raise ConfigError(f"--input {name}=PATH is given {len(paths)} times; pass it once")
        return Path(paths[0]) if paths else None

    def allow(self, *names: str) -> Inputs:
        """Refuse a name the step does not read (a misspelt ``--input`` would otherwise be
        ignored silently)."""
        unknown = sorted(set(self) - set(names))
        if unknown:
            raise ConfigError(f"--input {unknown[0]}=... is not read by this step; it reads "
                              f"{', '.join(names) or 'no --input'}")
        return self

    def run(self, name: str, what: str) -> Path:
        """The run directory of ``name`` (given as the directory, or as a file in it)."""
        return run_directory(self.one(name, what))

    def optional_run(self, name: str) -> Path | None:
        path = self.optional(name)
        return None if path is None else run_directory(path)

    def runs(self, name: str, what: str) -> list[Path]:
        """The run directories of ``name`` (at least one)."""
        return [run_directory(p) for p in self.all(name, what)]

    def all(self, name: str, what: str) -> list[Path]:
        """Every path of ``name`` (at least one)."""
        if not self.get(name):
            raise ConfigError(f"--input {name}=PATH ({what}) is not given; pass it at least once")
        return [Path(p) for p in self[name]]

    def files(self) -> list[Path]:
        return [Path(p) for paths in self.values() for p in paths]


def run_directory(path: str | Path) -> Path:
    """``path`` if it is a run directory, else the directory of the file it names."""
    path = Path(path)
    return path.parent if path.is_file() else path


def grid_of(paper: str) -> Any:
    """The paper's grid module (``nasrepro.papers.<paper>.grid``; torch-free)."""
    import importlib

    return importlib.import_module(f"nasrepro.papers.{paper}.grid")


def cell_parts(paper: str, stage: str, cell: str, names: Sequence[str]) -> list[str]:
    """The ``/``-separated parts of a cell, one per name (a one-line error otherwise)."""
    parts = cell.split("/")
    if len(parts) != len(names) or not all(parts):
        raise UnknownNameError(f"cell {cell!r} of {paper} {stage} is not "
                               f"{'/'.join(f'<{n}>' for n in names)}")
    return parts


def stage_function(module: Any, paper: str, stage: str) -> Any:
    """The paper's function for ``stage`` (one-line error when the paper has no such stage)."""
    stages = getattr(module, "STAGES", {})
    if stage not in stages:
        has = ", ".join(stages) or "none"
        raise UnknownNameError(f"paper {paper} has no {stage} stage (its stages: {has}; its "
                               f"studies: {', '.join(getattr(module, 'STUDIES', {})) or 'none'})")
    return stages[stage]


def study_function(module: Any, paper: str, name: str) -> Any:
    studies = getattr(module, "STUDIES", {})
    if name not in studies:
        raise UnknownNameError(f"paper {paper} has no study {name!r}; known: "
                               f"{', '.join(studies) or 'none'}")
    return studies[name]


def retrain_spec(config: dict, space: Any, train_cfg: dict, spec: dict, out: str | Path,
                 seed: int | None = None) -> dict:
    """Train ``spec["arch"]`` from scratch into ``out`` (``arch.json`` with the spec, then
    :func:`nasrepro.experiments.common.retrain_arch`); the seed is ``seed``, else the spec's,
    else the profile's first."""
    from nasrepro.experiments.common import retrain_arch
    from nasrepro.io import write_json

    seed = seed if seed is not None else spec.get("seed", config["seeds"][0])
    arch = space.validate(spec["arch"])
    write_json(Path(out) / "arch.json", {**spec, "arch": arch, "seed": seed})
    extra = {k: spec[k] for k in ("role", "index") if k in spec}
    return retrain_arch(config, space, arch, train_cfg, seed=seed, out_dir=out, extra=extra)


def seed_index(seeds: Sequence[int], seed: int | None, cell: str, where: str) -> int:
    """The run index of ``seed`` among a cell's seeds (a one-line error when it is not one)."""
    if seed is None:
        raise ConfigError(f"retrain of {cell} needs --seed (one of {list(seeds)}: {where})")
    if seed not in seeds:
        raise ConfigError(f"--seed {seed} is not a seed of {cell}: its runs use {list(seeds)} "
                          f"({where}); pass one of them")
    return list(seeds).index(seed)


def input_flags(wildcards: Any, input: Any) -> str:
    """(A Snakemake ``params`` function.) ``--input NAME=PATH`` for every named input of a rule
    except ``splits`` (which every job finds from its config): the files a job reads are on
    its command line. A run's ``provenance.json`` (what the rules depend on) is passed as its
    run directory."""
    flags = []
    for name in input.keys():
        if name == "splits":
            continue
        value = input[name]
        for path in [value] if isinstance(value, str) else value:
            if Path(path).name == PROVENANCE:
                path = str(Path(path).parent)
            flags.append(f"--input {name}={path}")
    return " ".join(flags)
