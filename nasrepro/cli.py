"""The ``nasrepro`` command line: what every Snakemake rule calls through ``shell:``.

Any job of the DAG can be pasted and rerun by hand. User errors (bad config, unknown names,
malformed archs, missing data, NaN loss) print one line ``error: ...`` and exit with status 2.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

from nasrepro.errors import ArchError, NasreproError


def _load_config(args: argparse.Namespace) -> dict:
    from nasrepro.config import (
        deep_merge,
        load_config_file,
        load_job_config,
        parse_config_override,
        validate_config,
    )

    override = getattr(args, "config_override", None)
    if getattr(args, "config_file", None):
        config = load_config_file(args.config_file)
        if override:
            config = validate_config(deep_merge(config, parse_config_override(override)),
                                     source=args.config_file)
        source = args.config_file
    else:
        config = load_job_config(getattr(args, "profile", None), override)
        source = f"config/{config['profile']}.yaml" + (" with --config-override" if override
                                                        else "")
    if getattr(args, "config_hash", None):
        from nasrepro.config import check_config_hash

        check_config_hash(config, args.config_hash, source)
    args.loaded_config = config  # for the "missing input ... made by rule ..." message
    return config


def parse_arch(text: str) -> Any:
    """ARCH given as a JSON string or the path of a JSON file."""
    source = "ARCH"
    give = "give a JSON object such as '{\"blocks\": [0, 1, ...]}' or the path of a JSON file"
    if not text.strip():
        raise ArchError(f"ARCH is empty; {give}")
    if not text.lstrip().startswith(("{", "[", "(")):
        path = Path(text)
        if path.is_dir():
            raise ArchError(f"ARCH {text} is a directory; {give}")
        if not path.exists():
            raise ArchError(f"ARCH {text!r} is not JSON and file {text} does not exist; {give}")
        try:
            text, source = path.read_text(), str(path)
        except (OSError, UnicodeDecodeError) as exc:
            raise ArchError(f"ARCH file {path} cannot be read ({exc}); {give}") from exc
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ArchError(f"{source} is not valid JSON ({exc.msg} at char {exc.pos}); "
                        f"{give}") from exc
    if isinstance(obj, dict) and "arch" in obj and isinstance(obj["arch"], dict):
        obj = obj["arch"]  # accept {"arch": ...} wrappers (best.json, arch.json, metrics.json)
    return obj


# --- informational ------------------------------------------------------------------------
def cmd_spaces(args: argparse.Namespace) -> None:
    from nasrepro.spaces import list_spaces

    for space, presets in list_spaces().items():
        print(f"{space}: {', '.join(presets)}")


def cmd_methods(args: argparse.Namespace) -> None:
    from nasrepro.config import PAPERS
    from nasrepro.errors import UnknownNameError
    from nasrepro.registry import KINDS, list_methods, settings_fields

    if args.paper is not None and args.paper not in PAPERS:
        raise UnknownNameError(f"unknown paper '{args.paper}'; known: {', '.join(PAPERS)} "
                               f"(or leave out --paper to list every method)")
    if args.kind is not None and args.kind not in KINDS:
        raise UnknownNameError(f"unknown method kind '{args.kind}'; known: {', '.join(KINDS)} "
                               f"(or leave out --kind)")
    if args.kinds:
        for kind, protocol in KINDS.items():
            print(f"{kind:10s} {protocol}")
        return
    for e in list_methods(args.paper, args.kind):
        print(f"{e.kind:10s} {e.name:16s} {','.join(e.papers):24s} {e.description}")
        if args.settings:
            fields = settings_fields(e)
            text = ", ".join(f"{k}={'(required)' if v is dataclasses.MISSING else repr(v)}"
                             for k, v in fields.items()) or "(none)"
            print(f"{'':10s} {'':16s} settings: {text}")


def cmd_cost(args: argparse.Namespace) -> None:
    from nasrepro.spaces import get_space

    space = get_space(args.space)
    arch = space.validate(parse_arch(args.arch))
    print(json.dumps(space.cost(arch).as_dict()))


# --- pipeline steps ----------------------------------------------------------------------
def cmd_data(args: argparse.Namespace) -> None:
    from nasrepro.experiments.common import make_data_splits, splits_path

    config = _load_config(args)
    make_data_splits(config, args.out or splits_path(config))


def _setup(args: argparse.Namespace) -> dict:
    """A computing job's config, device check and threads; on ``ranks`` > 1 the job runs
    under torchrun, one process per rank (:func:`nasrepro.training.distributed.launch`)."""
    from nasrepro.experiments.common import check_device, set_threads
    from nasrepro.training import distributed

    config = _load_config(args)
    check_device(config["device"])
    distributed.launch(config, args.argv)
    set_threads(config)
    return config


def _import_paper(module: str, paper: str) -> Any:
    """``nasrepro.papers.<paper>.<module>`` (``experiment`` or ``tables``) of a known paper."""
    import importlib

    from nasrepro.config import PAPERS
    from nasrepro.errors import UnknownNameError

    if paper not in PAPERS:
        raise UnknownNameError(f"unknown paper '{paper}'; known: {', '.join(PAPERS)}")
    name = f"nasrepro.papers.{paper}.{module}"
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name not in (name, f"nasrepro.papers.{paper}"):
            raise
        raise UnknownNameError(f"paper '{paper}' has no {name} module yet; "
                               f"see the README for the papers that run") from exc


def _paper_module(paper: str) -> Any:
    """The experiment steps of a paper (``nasrepro.papers.<paper>.experiment``)."""
    return _import_paper("experiment", paper)


def _stage_inputs(args: argparse.Namespace, config: dict) -> Any:
    """The job's ``--input NAME=PATH`` files, each checked to exist (a missing one names the
    rule that makes it)."""
    from nasrepro.experiments.common import require_input
    from nasrepro.stages import Inputs

    inputs = Inputs.parse(args.input)
    for path in inputs.files():
        require_input(config, path)
    return inputs


def cmd_stage(args: argparse.Namespace) -> None:
    """``train-supernet`` / ``search`` / ``retrain``: the paper's function for the stage
    (:mod:`nasrepro.stages`); ``retrain --arch`` trains a given arch instead of a cell's."""
    from nasrepro.stages import retrain_spec, stage_function

    module = _paper_module(args.paper)
    if args.stage == "retrain" and args.arch is not None:
        if args.cell is not None:
            raise ArchError("give either --cell (a retrain of the paper's grid) or --arch")
        config = _setup(args)
        spec = parse_arch(args.arch)
        spec = spec if isinstance(spec, dict) and "arch" in spec else {"arch": spec}
        space, train_cfg = module.retrain_setup(config, spec)
        retrain_spec(config, space, train_cfg, spec, args.out, seed=args.seed)
        return
    if args.cell is None:
        raise ArchError(f"{args.stage.replace('_', '-')} needs --cell (a cell of the paper's "
                        "grid)" + (" or --arch" if args.stage == "retrain" else ""))
    function = stage_function(module, args.paper, args.stage)
    if args.seed is None and args.stage != "retrain":
        raise ArchError(f"{args.stage.replace('_', '-')} needs --seed")
    config = _setup(args)
    function(config, args.cell, args.seed, Path(args.out), _stage_inputs(args, config))


def cmd_study(args: argparse.Namespace) -> None:
    """``nasrepro study P NAME``: one of the paper's own steps."""
    from nasrepro.stages import study_function

    function = study_function(_paper_module(args.paper), args.paper, args.name)
    config = _setup(args)
    function(config, Path(args.out), _stage_inputs(args, config))


def cmd_report(args: argparse.Namespace) -> None:
    from nasrepro.config import profile_dir
    from nasrepro.io import staged_folder
    from nasrepro.reporting.declared import reads_only
    from nasrepro.reporting.tables import write_paper_tables
    from nasrepro.stages import Inputs

    config = _load_config(args)
    report = _import_paper("tables", args.paper)
    data_dir = getattr(args, "data_dir", None) or profile_dir(config) / "tables"
    inputs = Inputs.parse(args.input).allow("run").files()
    # all the step's files or none: written into a staging folder, moved into --out-dir at the end
    with staged_folder(args.out_dir) as stage:
        guard = (reads_only(profile_dir(config), inputs, what=f"{args.paper} {args.what}s",
                            writable=(stage, args.out_dir, data_dir),
                            declare=f"{args.what}_inputs(config) in "
                                    f"nasrepro/papers/{args.paper}/grid.py")
                 if inputs else contextlib.nullcontext())  # a hand run without --input: unchecked
        with guard:
            if args.what == "table":
                write_paper_tables(args.paper, report, config, stage, data_dir)
            else:
                report.write_figures(config, stage)


def cmd_collect(args: argparse.Namespace) -> None:
    from nasrepro.config import PAPERS
    from nasrepro.errors import UnknownNameError
    from nasrepro.reporting.collect import collect_paper

    config = _load_config(args)
    if args.paper not in PAPERS:
        raise UnknownNameError(f"unknown paper '{args.paper}'; known: {', '.join(PAPERS)}")
    collect_paper(config, args.paper, args.out_dir)


def cmd_claims(args: argparse.Namespace) -> None:
    from nasrepro.reporting.claims import write_claims

    write_claims(_load_config(args), args.claims, args.out_dir, tables_dir=args.tables_dir)


def cmd_sequential_plan(args: argparse.Namespace) -> None:
    import pandas as pd
    import yaml

    from nasrepro.config import deep_merge, load_config, load_yaml
    from nasrepro.errors import ConfigError, DataError
    from nasrepro.io import atomic_path
    from nasrepro.reporting.claims import load_claims
    from nasrepro.reporting.sequential import plan_next_look

    merged: dict = {}
    for f in args.config:
        if not Path(f).is_file():
            raise ConfigError(f"config file {f} does not exist; give config/<profile>.yaml (and "
                              f"the look-1 overlay, e.g. config/overlays/sequential.yaml)")
        merged = deep_merge(merged, load_yaml(Path(f).read_text()) or {})
    if not Path(args.claims).is_file():
        raise ConfigError(f"claims table {args.claims} does not exist; run look 1 first "
                          f"(make reproduce-sequential)")
    try:
        table = pd.read_csv(args.claims)
    except (ValueError, UnicodeDecodeError) as exc:   # pandas' parser/empty-data errors
        raise DataError(f"claims table {args.claims} is not a readable CSV ({type(exc).__name__}); "
                        f"give the claims.csv that look 1 wrote") from None
    overlay, notes = plan_next_look(table, load_config(None, merged),
                                    load_claims(args.claims_file))
    look2 = load_config(None, deep_merge(merged, overlay))   # look 2's config must be valid
    from nasrepro.config import check_names

    check_names(look2)   # and its grids (e.g. a replicate seed repeating search_seed)
    head = "".join(f"# {n}\n" for n in notes) or "# no claim continues\n"
    with atomic_path(Path(args.out)) as tmp:
        tmp.write_text(f"# look 2 of the sequential claims check (nasrepro sequential-plan "
                       f"--claims {args.claims})\n{head}"
                       + yaml.safe_dump(overlay, sort_keys=False, allow_unicode=True),
                       encoding="utf-8")
    print("\n".join([*notes, f"wrote {args.out}"]))


def cmd_leaderboard(args: argparse.Namespace) -> None:
    from nasrepro.reporting.leaderboard import write_leaderboard

    write_leaderboard(_load_config(args), args.out_dir)


def cmd_report_md(args: argparse.Namespace) -> None:
    from nasrepro.config import profile_dir
    from nasrepro.reporting.report import build_report

    config = _load_config(args)
    build_report(config, args.out_dir, args.template, args.published,
                 args.tables_dir or profile_dir(config) / "tables")


def cmd_verify(args: argparse.Namespace) -> None:
    from nasrepro.reporting.verify import verify

    if not verify(args.new, args.reference):
        raise SystemExit(1)


def cmd_reference(args: argparse.Namespace) -> None:
    from nasrepro.reporting.verify import write_reference

    write_reference(args.new, args.reference, csv_only=args.csv_only, command=args.command_line)


def cmd_plan(args: argparse.Namespace) -> None:
    from nasrepro.config import workflow_config
    from nasrepro.plan import run_plan

    config_args = ([f"profile={args.profile_name}"] if args.profile_name else []) + list(
        args.config or [])
    config = workflow_config({}, config_args)
    print(run_plan(config, config_args, device=args.device, step_times=args.step_times,
                   calibrate_steps=args.calibrate_steps))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nasrepro", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    def with_config(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        g = p.add_mutually_exclusive_group()
        g.add_argument("--config-file",
                       help="resolved config (results/<profile>/config.resolved.yaml)")
        g.add_argument("--profile", help="profile name (config/<profile>.yaml), default 'default'")
        p.add_argument("--config-override", default=None, metavar="JSON",
                       help="config keys over the profile's, as a JSON object (what the "
                            "Snakemake rules pass: the run's --configfile/--config values)")
        p.add_argument("--config-hash", default=None, metavar="SCOPE:HASH",
                       help="(set by the Snakemake rules) refuse to run unless the config's "
                            "section SCOPE has this hash, i.e. is the one the job was planned "
                            "with")
        return p

    p = sub.add_parser("spaces", help="list spaces and presets")
    p.set_defaults(func=cmd_spaces)
    p = sub.add_parser("methods", help="list registered methods (kind, name, papers)")
    p.add_argument("--paper", default=None, help="only the methods this paper can run")
    p.add_argument("--kind", default=None, help="only methods of this kind")
    p.add_argument("--kinds", action="store_true", help="list the kinds and their protocols")
    p.add_argument("--settings", action="store_true",
                   help="also print each method's typed settings and their defaults")
    p.set_defaults(func=cmd_methods)
    p = sub.add_parser("cost", help='print {"macs": int, "params": int} of an arch')
    p.add_argument("space", help="SPACE/PRESET, e.g. spos/imagenet")
    p.add_argument("arch", help="arch as a JSON string or a JSON file")
    p.set_defaults(func=cmd_cost)

    p = with_config(sub.add_parser("data", help="fetch the dataset, make the fixed splits"))
    p.add_argument("--out", default=None)
    p.set_defaults(func=cmd_data)

    stage_help = {"train-supernet": "train a weight-sharing supernet (a cell of the grid)",
                  "search": "search a trained supernet (or evaluate subnets on it)",
                  "retrain": "train an arch's standalone net from scratch"}
    for command, text in stage_help.items():
        p = with_config(sub.add_parser(command, help=text))
        p.add_argument("--paper", required=True)
        p.add_argument("--cell", default=None, help="a cell of the paper's grid, e.g. "
                       "block/uniform (spos), main/bestup (attentivenas), snas-mild (darts_snas)")
        p.add_argument("--seed", type=int, default=None,
                       help="the replicate's seed" + (" (retrain without it: every seed of the "
                                                      "cell, where the paper allows it)"
                                                      if command == "retrain" else ""))
        p.add_argument("--out", required=True, help="the run directory")
        p.add_argument("--input", action="append", default=[], metavar="NAME=PATH",
                       help="a file or run directory the job reads (repeatable)")
        if command == "retrain":
            p.add_argument("--arch", default=None,
                           help="instead of --cell: an arch as JSON or a JSON file")
        p.set_defaults(func=cmd_stage, stage=command.replace("-", "_"))
    p = with_config(sub.add_parser("study", help="one of a paper's own steps (SPOS inherit, "
                                                 "AttentiveNAS prior/predictor, FBNetV3 "
                                                 "pretrain/predictor)"))
    p.add_argument("paper")
    p.add_argument("name")
    p.add_argument("--out", required=True, help="the study's directory")
    p.add_argument("--input", action="append", default=[], metavar="NAME=PATH",
                   help="a file or run directory the step reads (repeatable)")
    p.set_defaults(func=cmd_study)

    for what in ("table", "figure"):
        p = with_config(sub.add_parser(what, help=f"write a paper's {what} from results"))
        p.add_argument("--paper", required=True)
        p.add_argument("--out-dir", required=True,
                       help=f"the paper's {what}s (results/<profile>/<paper>/{what}s)")
        p.add_argument("--input", action="append", default=[], metavar="run=PATH",
                       help="a file the step may read (repeatable; the rule's inputs): with "
                            "any given, reading another file of results/<profile> is an error")
        if what == "table":
            p.add_argument("--data-dir", default=None,
                           help="where <paper>_measurements.csv and <paper>_leaderboard.csv go "
                                "(default: results/<profile>/tables)")
        p.set_defaults(func=cmd_report, what=what)
    p = with_config(sub.add_parser("collect", help="copy a paper's tables/figures/provenance"))
    p.add_argument("--paper", required=True)
    p.add_argument("--out-dir", required=True)
    p.set_defaults(func=cmd_collect)
    p = with_config(sub.add_parser("claims", help="test every claim of paper/claims.yaml"))
    p.add_argument("--claims", default="paper/claims.yaml")
    p.add_argument("--out-dir", required=True)
    p.add_argument("--tables-dir", default=None,
                   help="where the *_measurements.csv are (default: results/<profile>/tables)")
    p.set_defaults(func=cmd_claims)
    p = sub.add_parser("sequential-plan", help="look 2 of the sequential claims check: a config "
                       "overlay adding seeds to the claims that continue (docs/claims.md)")
    p.add_argument("--claims", required=True, help="look 1's claims table "
                   "(results/<profile>/tables/claims.csv)")
    p.add_argument("--config", nargs="+", required=True, metavar="YAML",
                   help="look 1's config files, merged in order (config/<profile>.yaml "
                   "config/overlays/sequential.yaml)")
    p.add_argument("--claims-file", default="paper/claims.yaml", help="its seeds_key fields")
    p.add_argument("--out", required=True, help="the overlay (snakemake --configfile)")
    p.set_defaults(func=cmd_sequential_plan)
    p = with_config(sub.add_parser("leaderboard", help="every searched arch of every paper"))
    p.add_argument("--out-dir", required=True)
    p.set_defaults(func=cmd_leaderboard)
    p = with_config(sub.add_parser("report", help="write the reproduction report REPORT.md"))
    p.add_argument("--out-dir", required=True, help="paper/<profile>")
    p.add_argument("--template", default="paper/report_template.md")
    p.add_argument("--published", default="paper/published.yaml")
    p.add_argument("--tables-dir", default=None, help="default: results/<profile>/tables")
    p.set_defaults(func=cmd_report_md)

    p = sub.add_parser("verify", help="compare a run's tables with the committed reference; "
                                      "exit 1 on a difference")
    p.add_argument("new", help="the new run's paper/<profile> (or results/<profile>/tables)")
    p.add_argument("reference", help="the committed reference, e.g. paper/tiny")
    p.set_defaults(func=cmd_verify)
    p = sub.add_parser("reference", help="(re)write the committed reference from a run")
    p.add_argument("new", help="the run's paper/<profile> folder")
    p.add_argument("reference", help="the reference folder to replace, e.g. paper/tiny")
    p.add_argument("--csv-only", action="store_true",
                   help="only the compared CSV tables (+ REFERENCE.json), no figures/report")
    p.add_argument("--command-line", default=None, help="the command that made the run")
    p.set_defaults(func=cmd_reference)
    p = sub.add_parser("plan", help="estimated time of every rule and of the whole DAG, from "
                                     "a short calibration (nasrepro/plan.py)")
    p.add_argument("profile_name", nargs="?", metavar="PROFILE", help="same as --config profile=")
    p.add_argument("--config", nargs="+", default=[], metavar="KEY=VALUE",
                   help="overrides, as snakemake --config (e.g. profile=tiny 'seeds=[0]')")
    p.add_argument("--device", default=None, help="calibrate here on this device (default: "
                   "the profile's; a GPU profile without a GPU uses the H200 reference times)")
    p.add_argument("--step-times", default=None, help="eager fp32 step times from a "
                   "bench/gpu.py CSV instead of calibrating")
    p.add_argument("--calibrate-steps", type=int, default=2, help="timed steps per network")
    p.set_defaults(func=cmd_plan)
    return parser


def _clean_run_dirs(args: argparse.Namespace) -> None:
    """A job starts: remove the temp files a killed earlier job left in the folder it writes
    (``--out``: the run dir, or a file's folder; ``--out-dir``), never a live writer's."""
    from nasrepro.io import clean_stale_tmp

    for name in ("out", "out_dir"):
        value = getattr(args, name, None)
        if value:
            path = Path(value)
            for removed in clean_stale_tmp(path if path.is_dir() or not path.suffix
                                           else path.parent):
                print(f"note: removed {removed}, left by a killed job", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    from nasrepro.determinism import pin_job_env

    # before build_parser imports torch/numpy: their thread pools and CPU kernels follow the
    # config alone
    pin_job_env(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # a several-rank job reruns it
    try:
        _clean_run_dirs(args)
        args.func(args)
    except NasreproError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except FileNotFoundError as exc:  # an input of a hand-run step that no job has made yet
        from nasrepro.experiments.common import missing_input_message

        config = getattr(args, "loaded_config", None)
        what = (missing_input_message(config, exc.filename) if exc.filename
                else f"missing input ({exc})")
        print(f"error: {what}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted; rerun the same command to resume from the last checkpoint",
              file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
