"""Profiles: load ``config/<profile>.yaml``, apply overrides, validate against the schema.

The JSON schema in ``workflow/schemas/config.schema.yaml`` describes every key and gives its
default; :func:`load_config` fills the defaults in (nested objects included) and turns any
schema violation into a one-line :class:`ConfigError` naming the key and the fix.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from nasrepro.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = REPO_ROOT / "config"
SCHEMA_DIR = REPO_ROOT / "workflow" / "schemas"
SCHEMA_PATH = SCHEMA_DIR / "config.schema.yaml"
PAPERS = ("spos", "darts_snas", "attentivenas", "fbnetv3")


def _with_defaults(validator_class: type) -> type:
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):  # type: ignore[no-untyped-def]
        if isinstance(instance, dict):
            for key, sub in properties.items():
                if "default" in sub and key not in instance:
                    instance[key] = copy.deepcopy(sub["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


_Validator = _with_defaults(jsonschema.Draft202012Validator)

#: libyaml's C loader where PyYAML has it (10-20x faster: every DAG job reads the schemas)
_YamlLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(stream: Any) -> Any:
    """``yaml.safe_load`` with the C loader when available (same results, safe subset)."""
    return yaml.load(stream, Loader=_YamlLoader)  # noqa: S506 (a safe loader)


def load_schema() -> dict:
    """The top-level config schema as a dict (its ``$id`` is the file's URI, so the per-paper
    schema files it references with relative ``$ref`` resolve as they do in Snakemake)."""
    with open(SCHEMA_PATH) as f:
        schema = load_yaml(f)
    schema["$id"] = SCHEMA_PATH.as_uri()
    return schema


def _retrieve_local(uri: str) -> Resource:
    """Load a schema file of ``workflow/schemas`` referenced by ``$ref``."""
    name = uri.rsplit("/", 1)[-1]
    path = SCHEMA_DIR / name
    if not uri.startswith("file:") or not path.exists():
        raise ConfigError(f"schema reference '{uri}' is not a file in {SCHEMA_DIR}; fix the $ref")
    with open(path) as f:
        contents = load_yaml(f)
    # without "$schema", jsonschema keeps our default-filling validator class for this file
    contents.pop("$schema", None)
    return Resource.from_contents(contents, default_specification=DRAFT202012)


_REGISTRY: Registry = Registry(retrieve=_retrieve_local)  # type: ignore[call-arg]


def seeds_of(config: dict, paper: str, *keys: str) -> list[int]:
    """The first of ``config[paper][key]`` for ``keys`` (default ``seeds``) that is set (a
    per-paper or per-stage seed list, e.g. ``seeds_of(config, "darts_snas", "retrain_seeds",
    "seeds")``), else the profile's ``seeds``."""
    section = config.get(paper) or {}
    for key in keys or ("seeds",):
        if section.get(key):
            return list(section[key])
    return list(config["seeds"])


def methods_of(config: dict, paper: str, kind: str) -> list[str]:
    """The registered methods of ``kind`` a paper compares: ``config[paper]["methods"][kind]``
    (every paper lists its methods the same way, ``<paper>.methods.<kind>: [...]``)."""
    return list(config[paper]["methods"].get(kind) or [])


#: keys of earlier versions -> where they live now (a one-line error names the move).
MOVED_KEYS = {
    ("spos", "samplers"): "spos.methods.sampler",
    ("spos", "searchers"): "spos.methods.searcher",
    ("attentivenas", "samplers"): "attentivenas.methods.sampler",
    ("attentivenas", "searcher"): "attentivenas.methods.searcher (a list of one)",
    ("fbnetv3", "predictor_methods"): "fbnetv3.methods.predictor",
}


def _check_moved_keys(config: dict, source: str) -> None:
    for (paper, key), new in MOVED_KEYS.items():
        if key in (config.get(paper) or {}):
            raise ConfigError(f"config key '{paper}.{key}' moved to '{new}' (methods are listed "
                              f"by kind, <paper>.methods.<kind>); rename it in {source}")
    if isinstance((config.get("darts_snas") or {}).get("methods"), list):
        raise ConfigError(f"config key 'darts_snas.methods' is by kind now: "
                          f"{{relaxation: [darts-1st, darts-2nd, snas], searcher: [random-cell]}}; "
                          f"change it in {source}")


def list_profiles() -> list[str]:
    """Profiles available in ``config/``."""
    return sorted(p.stem for p in CONFIG_DIR.glob("*.yaml"))


def deep_merge(base: dict, override: dict) -> dict:
    """Recursively merge ``override`` into a copy of ``base`` (override wins)."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def validate_config(config: dict, source: str = "the config") -> dict:
    """Validate ``config`` in place (filling defaults); raise ConfigError on the first problem."""
    _check_moved_keys(config, source)
    validator = _Validator(load_schema(), registry=_REGISTRY)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        err = errors[0]
        where = ".".join(str(p) for p in err.absolute_path) or "(top level)"
        msg = err.message.replace("\n", " ")
        if len(msg) > 200:
            msg = msg[:200] + "..."
        raise ConfigError(
            f"invalid config key '{where}': {msg} (fix {source} or the --config override; "
            f"every key is described in workflow/schemas/config.schema.yaml)"
        )
    return config


def _coerce(value: Any) -> Any:
    """Command-line strings such as ``true``/``null``/``[0, 1]`` become YAML values."""
    if isinstance(value, dict):
        return {k: _coerce(v) for k, v in value.items()}
    if isinstance(value, str) and value.strip()[:1] in "tfnTFN[{":
        try:
            return yaml.safe_load(value)
        except yaml.YAMLError:
            return value
    return value


def parse_config_args(args: Sequence[str] | None) -> dict:
    """Snakemake's ``--config KEY=VALUE ...`` strings as typed overrides: each VALUE is read
    as YAML, so ``seeds=[0,1,2]`` gives ints and ``spos={search: {population: 4}}`` a nested
    override (Snakemake itself leaves every value below the top level a string, and refuses
    dotted keys such as ``spos.search.population=4`` before the workflow loads)."""
    out: dict = {}
    for arg in args or ():
        key, sep, value = str(arg).partition("=")
        if not sep or not key:
            raise ConfigError(f"--config {arg}: give KEY=VALUE, e.g. --config profile=tiny "
                              f"'seeds=[0, 1, 2]' 'spos={{search: {{population: 4}}}}'")
        try:
            parsed = yaml.safe_load(value) if value.strip() else None
        except yaml.YAMLError as exc:
            problem = str(getattr(exc, "problem", None) or exc.__class__.__name__)
            raise ConfigError(f"--config {arg}: the value is not valid YAML ({problem}); quote "
                              f"it for the shell, e.g. --config 'seeds=[0, 1, 2]'") from exc
        out = deep_merge(out, {key: parsed})
    return out


def paper_modules() -> list[Any]:
    """The importable ``nasrepro.papers.<paper>.experiment`` modules, in ``PAPERS`` order (a paper
    whose module is not there is skipped; an import error inside a module is raised)."""
    import importlib

    out = []
    for paper in PAPERS:
        try:
            out.append(importlib.import_module(f"nasrepro.papers.{paper}.experiment"))
        except ModuleNotFoundError as exc:
            if exc.name not in (f"nasrepro.papers.{paper}", f"nasrepro.papers.{paper}.experiment"):
                raise
    return out


def check_names(config: dict) -> None:
    """Every registered name the config gives (methods, spaces, presets) exists: each paper's
    ``nasrepro.papers.<paper>.experiment.name_checks(config)`` lists ``(config key, check)``; the
    first failing check is a one-line :class:`ConfigError` naming the key and the known names.
    Then every listed method's typed settings resolve (``<paper>.method_settings``)."""

    from nasrepro.errors import NasreproError

    for module in paper_modules():
        for key, check in getattr(module, "name_checks", lambda c: [])(config):
            try:
                check()
            except ConfigError:
                raise
            except NasreproError as exc:
                raise ConfigError(f"invalid config key '{key}': {exc}") from exc
    from nasrepro.registry import check_method_settings

    check_method_settings(config)


def workflow_config(config: dict, config_args: Sequence[str] | None) -> dict:
    """The Snakefile's resolved config: Snakemake's ``config`` (``--configfile`` files merged
    with ``--config``) with the ``--config`` values re-read as YAML (:func:`parse_config_args`),
    loaded on top of its profile (:func:`load_config`), every registered name checked
    (:func:`check_names`)."""
    overrides = deep_merge(dict(config), parse_config_args(config_args))
    config = load_config(None, overrides)
    check_names(config)
    return config


def _check_consistency(config: dict) -> None:
    """What the schema cannot say: evolution settings that fit in their population; the
    DARTS/SNAS retrain seeds are seeds of a search (retrain i derives its cell from it)."""
    ds = config.get("darts_snas")
    if isinstance(ds, dict) and ds.get("retrain_seeds") and "seeds" in config:
        searched = seeds_of(config, "darts_snas")
        extra = [s for s in ds["retrain_seeds"] if s not in searched]
        if extra:
            raise ConfigError(f"invalid config key 'darts_snas.retrain_seeds': seed(s) "
                              f"{', '.join(map(str, extra))} have no search (search seeds: "
                              f"{', '.join(map(str, searched))}); retrain a subset of "
                              "darts_snas.seeds")
    searches = {"spos.search": config.get("spos", {}).get("search", {}),
                "attentivenas.search": config.get("attentivenas", {}).get("search", {}),
                "fbnetv3.fine": config.get("fbnetv3", {}).get("fine", {})}
    for where, sc in searches.items():
        pop = sc.get("population")
        if pop is None:
            continue
        if sc.get("topk", 0) > pop:
            raise ConfigError(f"invalid config key '{where}.topk': {sc['topk']} parents kept but "
                              f"only {pop} in the population; set {where}.topk <= "
                              f"{where}.population")
        children = sc.get("n_crossover", 0) + sc.get("n_mutation", 0)
        if children > pop:
            raise ConfigError(f"invalid config key '{where}.n_crossover': n_crossover + "
                              f"n_mutation = {children} children exceed the population {pop}; "
                              f"lower them or raise {where}.population")


def load_config(profile: str | None = None, overrides: dict | None = None) -> dict:
    """Load a profile, merge ``overrides`` (e.g. Snakemake's --config), validate, fill defaults.

    ``profile`` ``None`` takes ``overrides["profile"]``, else ``default``; an empty profile
    (``--config profile=``) is an error, not the default profile.
    """
    overrides = {k: _coerce(v) for k, v in (overrides or {}).items()}
    if profile is None:
        profile = overrides.get("profile", "default")
    if profile is None or not str(profile).strip():
        raise ConfigError(f"profile is empty; give one with --config profile=NAME (known: "
                          f"{', '.join(list_profiles())})")
    profile = str(profile)
    path = CONFIG_DIR / f"{profile}.yaml"
    if not path.exists():
        raise ConfigError(
            f"unknown profile '{profile}'; known profiles: {', '.join(list_profiles())} "
            f"(use --config profile=NAME, or add config/{profile}.yaml)"
        )
    try:
        base = load_yaml(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"config/{profile}.yaml is not valid YAML ({exc.__class__.__name__}); "
                          f"fix its syntax") from exc
    overrides.pop("profile", None)
    config = deep_merge(base, overrides)
    config["profile"] = profile
    validate_config(config, source=f"config/{profile}.yaml")
    _check_consistency(config)
    return apply_full_design(config)


#: per-stage seed lists of a budget allocation (issue 12); ``full: true`` clears them
STAGE_SEED_KEYS = (("spos", "seeds"), ("spos", "display_seeds"), ("darts_snas", "seeds"),
                   ("darts_snas", "retrain_seeds"), ("attentivenas", "seeds"),
                   ("fbnetv3", "retrain_seeds"), ("fbnetv3", "display_retrain_seeds"))


def describe_seeds(config: dict) -> str:
    """The profile's seeds and every per-stage list that differs, e.g.
    ``0, 1, 2 (spos.seeds: 0..5; spos.display_seeds: 0)``."""
    def fmt(seeds: list[int]) -> str:
        if len(seeds) > 3 and seeds == list(range(seeds[0], seeds[0] + len(seeds))):
            return f"{seeds[0]}..{seeds[-1]}"
        return ", ".join(str(s) for s in seeds)

    base = list(config["seeds"])
    own = [f"{paper}.{key}: {fmt(list(config[paper][key]))}" for paper, key in STAGE_SEED_KEYS
           if isinstance(config.get(paper), dict) and config[paper].get(key)
           and list(config[paper][key]) != base]
    return fmt(base) + (f" ({'; '.join(own)})" if own else "")


def apply_full_design(config: dict) -> dict:
    """``full: true``: every stage runs at the profile's ``seeds`` (the all-rows-all-seeds
    design, for users with more compute); the per-stage lists are set to null in place."""
    if config.get("full"):
        for paper, key in STAGE_SEED_KEYS:
            if isinstance(config.get(paper), dict):
                config[paper][key] = None
    return config


def load_config_file(path: str | Path) -> dict:
    """Load an already resolved config file (as written by the Snakefile) and re-validate it."""
    path = Path(path)
    fix = ("pass --config-file pointing to a resolved config "
           "(results/<profile>/config.resolved.yaml)")
    if not path.exists():
        raise ConfigError(f"config file {path} does not exist; run through snakemake or {fix}")
    if path.is_dir():
        raise ConfigError(f"config file {path} is a directory; {fix}")
    try:
        config = load_yaml(path.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"config file {path} is not valid YAML{where}; fix its syntax or "
                          f"{fix}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path} cannot be read ({exc}); {fix}") from exc
    if config is None:
        config = {}
    if not isinstance(config, dict):
        raise ConfigError(f"config file {path} is not a mapping of config keys; {fix}")
    validate_config(config, source=str(path))
    _check_consistency(config)
    return config


#: keys that change no result file: where results go, what the default target runs, progress
RESULT_NEUTRAL_KEYS = ("profile", "results_dir", "paper_dir", "papers", "progress")
#: keys every paper's jobs read besides their own section
COMMON_KEYS = ("device", "threads", "cpu_isa", "seeds", "data")


def config_section(config: dict, scope: str) -> dict:
    """The part of ``config`` that the jobs of ``scope`` read, i.e. whose change must rerun them.

    Scopes: ``data`` (rule data: the ``data`` section), a paper name (its jobs: the common keys
    ``device threads seeds data`` and its own section), ``all`` (the cross-paper rules claims,
    leaderboard, report: every key but the result-neutral ones, ``papers`` included), ``file``
    (the whole resolved config, rule resolved_config).
    """
    if scope == "file":
        return dict(config)
    if scope == "data":
        return {"data": config["data"]}
    if scope == "all":
        return _without_default_fast_paths(
            {k: v for k, v in config.items() if k == "papers" or k not in RESULT_NEUTRAL_KEYS})
    if scope in PAPERS:
        return _without_default_fast_paths(
            {k: config[k] for k in (*COMMON_KEYS, scope) if k in config})
    raise ConfigError(f"unknown config scope '{scope}'; known: data, {', '.join(PAPERS)}, all, "
                      f"file")


def _without_default_fast_paths(section: Any) -> Any:
    """``section`` with the fast-path keys left out of every training recipe (a mapping with a
    ``batch_size``) where they are at their default: ``compile: none`` written out hashes as
    the key left out, as in a config of before the keys existed."""
    from nasrepro.training.config import without_default_fast_paths

    if not isinstance(section, dict):
        return section
    out = {k: _without_default_fast_paths(v) for k, v in section.items()}
    return without_default_fast_paths(out) if "batch_size" in out else out


def config_hash(config: dict, scope: str) -> str:
    """Stable short hash of :func:`config_section` (the rules' params, the jobs' check)."""
    from nasrepro.io import stable_hash

    return stable_hash(config_section(config, scope), 16)


def config_diff(config: dict, base: dict) -> dict:
    """The keys of ``config`` whose values differ from ``base`` (recursively into mappings;
    lists and other values whole): ``load_config(p, config_diff(c, load_config(p))) == c``."""
    out = {}
    for key, value in config.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            sub = config_diff(value, base[key])
            if sub:
                out[key] = sub
        elif key not in base or base[key] != value:
            out[key] = copy.deepcopy(value)
    return out


def job_config_args(config: dict) -> str:
    """How a job is told its config on its command line: ``--profile P`` plus, when the
    config differs from that profile, ``--config-override JSON`` (the differing keys), shell
    quoted. The job resolves exactly ``config`` from them; no shared file is involved."""
    import json
    import shlex

    profile = config["profile"]
    diff = config_diff(config, load_config(profile))
    args = f"--profile {shlex.quote(profile)}"
    if diff:
        blob = json.dumps(diff, sort_keys=True, separators=(",", ":"))
        args += f" --config-override {shlex.quote(blob)}"
    return args


def job_config_param(config: dict) -> Any:
    """A rule ``params:`` value giving :func:`job_config_args`. It is a function of ``output``,
    which Snakemake counts as derived, so it never triggers a rerun by itself: the reruns
    follow the ``config_hash`` param of the section each job reads."""
    args = job_config_args(config)

    def config_args(wildcards: Any, output: Any) -> str:
        return args

    return config_args


def parse_config_override(override: str | None) -> dict:
    """``--config-override JSON`` as a dict of config keys (one-line error otherwise)."""
    import json

    overrides: dict = {}
    if override:
        try:
            overrides = json.loads(override)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"--config-override is not valid JSON ({exc.msg} at char "
                              f"{exc.pos}); give a JSON object of config keys, e.g. "
                              f"'{{\"seeds\": [0, 1]}}'") from exc
        if not isinstance(overrides, dict):
            raise ConfigError("--config-override must be a JSON object of config keys, e.g. "
                              "'{\"seeds\": [0, 1]}'")
    return overrides


def load_job_config(profile: str | None, override: str | None) -> dict:
    """The config a job was given: ``--profile`` and ``--config-override JSON``."""
    overrides = parse_config_override(override)
    return load_config(profile or overrides.get("profile") or "default", overrides)


def check_config_hash(config: dict, expected: str, source: str) -> None:
    """``expected`` is ``"<scope>:<hash>"`` (``--config-hash``, set by the rules): the section of
    ``config`` the job reads must be the one Snakemake planned the job with."""
    scope, _, want = expected.partition(":")
    got = config_hash(config, scope)
    if got != want:
        raise ConfigError(
            f"{source} gives other {scope} settings than Snakemake planned this job with "
            f"(hash {got}, expected {want}), e.g. config/{config.get('profile')}.yaml was "
            f"edited since; rerun the snakemake command"
        )


def profile_dir(config: dict) -> Path:
    """``results/<profile>`` for this config."""
    return Path(config["results_dir"]) / config["profile"]
