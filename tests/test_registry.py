"""Method registries by kind: plug-ins in methods/ and $NASREPRO_METHODS register, are found,
are strict (duplicates, unknown kinds/papers) and can be listed by kind and paper."""

from __future__ import annotations

import pytest

from nasrepro import registry
from nasrepro.errors import UnknownNameError
from tests.conftest import REPO, run_cli


def test_builtin_methods_are_registered_by_kind() -> None:
    spos = {(e.kind, e.name) for e in registry.list_methods("spos")}
    assert {("sampler", "uniform"), ("sampler", "flops-binned"), ("sampler", "bestup"),
            ("searcher", "evolution"), ("searcher", "random"),
            ("searcher", "pareto-evolution")} <= spos
    assert {e.name for e in registry.list_methods(kind="predictor")} >= {
        "pretrained", "scratch", "random_forest"}
    assert all(e.kind == "relaxation" for e in registry.list_methods(kind="relaxation"))


def test_one_registration_serves_every_paper_of_its_kind() -> None:
    """SPOS evolution runs in AttentiveNAS, the random forest in FBNetV3 and AttentiveNAS,
    the AttentiveNAS samplers in SPOS: each from one registration."""
    evo = registry.get_method("searcher", "evolution", paper="attentivenas")
    assert evo is registry.get_method("searcher", "evolution", paper="spos")
    rf = registry.get_method("predictor", "random_forest", paper="attentivenas")
    assert rf is registry.get_method("predictor", "random_forest", paper="fbnetv3")
    assert registry.get_method("sampler", "bestup", paper="spos").papers == (
        "spos", "attentivenas")


def test_plugin_folder_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NASREPRO_METHODS", str(REPO / "tests" / "toy_methods"))
    entry = registry.get_method("searcher", "toy-search", paper="spos")
    assert entry.kind == "searcher" and "toy" in entry.description.lower()
    kinds = {e.kind for e in registry.list_methods() if e.name.startswith("toy-")}
    assert kinds == set(registry.KINDS)  # one toy plug-in per kind


def test_unknown_method_lists_known_ones() -> None:
    with pytest.raises(UnknownNameError) as err:
        registry.get_method("sampler", "does-not-exist", paper="spos")
    assert "uniform" in str(err.value) and "\n" not in str(err.value)


def test_kind_mismatch_is_unknown() -> None:
    with pytest.raises(UnknownNameError):
        registry.get_method("searcher", "uniform")
    with pytest.raises(UnknownNameError, match="unknown method kind"):
        registry.get_method("optimizer", "uniform")


def test_a_method_outside_its_papers_is_refused() -> None:
    with pytest.raises(UnknownNameError, match="runs in darts_snas, not in spos"):
        registry.get_method("searcher", "random-cell", paper="spos")


def test_duplicate_registration_raises() -> None:
    @registry.register_method("dup-test", kind="searcher", papers=("spos",))
    def first(*a, **k):  # pragma: no cover - never called
        return None

    try:
        with pytest.raises(registry.RegistryError, match="registered twice"):
            @registry.register_method("dup-test", kind="searcher", papers=("spos",))
            def second(*a, **k):  # pragma: no cover - never called
                return None
        with pytest.raises(registry.RegistryError, match="unknown kind"):
            registry.register_method("x", kind="optimizer", papers=("spos",))
        with pytest.raises(registry.RegistryError, match="unknown papers"):
            registry.register_method("x", kind="searcher", papers=("nasbench",))
    finally:
        registry._METHODS.pop(("searcher", "dup-test"), None)


def test_methods_cli_filters_by_kind_and_paper() -> None:
    proc = run_cli("methods", "--kind", "predictor", "--paper", "attentivenas")
    assert proc.returncode == 0, proc.stderr
    names = [line.split()[1] for line in proc.stdout.splitlines()]
    assert "random_forest" in names and "pretrained" not in names
    assert all(line.split()[0] == "predictor" for line in proc.stdout.splitlines())
    bad = run_cli("methods", "--kind", "optimizer")
    assert bad.returncode == 2 and "unknown method kind" in bad.stderr


# --- typed settings (issue 14) ---------------------------------------------------------------
def test_every_builtin_declares_typed_settings_or_none() -> None:
    """A factory gets a dataclass instance (never the config dict): each built-in with knobs
    declares its class, and its defaults build one."""
    import dataclasses

    with_settings = {(e.kind, e.name) for e in registry.list_methods() if e.settings}
    assert {("searcher", "evolution"), ("searcher", "random"), ("relaxation", "snas"),
            ("relaxation", "darts-1st"), ("predictor", "random_forest"),
            ("predictor", "pretrained"), ("sampler", "bestup")} <= with_settings
    for e in registry.list_methods():
        if e.settings is not None:
            assert dataclasses.is_dataclass(e.settings())


def test_settings_come_from_method_settings_then_the_shared_section_then_defaults() -> None:
    from nasrepro.config import load_config

    config = load_config("tiny", {"spos": {"method_settings": {"evolution": {"topk": 2}}},
                                  "attentivenas": {"method_settings": {
                                      "random_forest": {"n_estimators": 7}}}})
    evo = registry.method_settings(config, "spos", "searcher", "evolution")
    assert evo.topk == 2  # its own place wins
    assert evo.population == config["spos"]["search"]["population"]  # the shared section
    assert type(evo).__name__ == "EvolutionSettings"
    rf = registry.method_settings(config, "attentivenas", "predictor", "random_forest")
    assert (rf.n_estimators, rf.max_depth) == (7, 15)  # default depth
    # the same registration, another paper: its own settings there (defaults)
    assert registry.method_settings(config, "fbnetv3", "predictor",
                                    "random_forest").n_estimators == 100
    snas = registry.method_settings(config, "darts_snas", "relaxation", "snas")
    assert snas.arch_lr == config["darts_snas"]["arch_lr"]
    assert snas.arch_betas == tuple(config["darts_snas"]["arch_betas"])  # list -> tuple
    bestup = registry.method_settings(config, "attentivenas", "sampler", "bestup")
    assert (bestup.k, bestup.scorer) == (config["attentivenas"]["attentive"]["k"],
                                         config["attentivenas"]["attentive"]["scorer"])
    assert registry.method_settings(config, "spos", "sampler", "uniform") is None


@pytest.mark.parametrize(("override", "message"), [
    ({"spos": {"method_settings": {"evolution": {"popsize": 3}}}},
     "'spos.method_settings.evolution.popsize': searcher 'evolution' has no setting 'popsize'"),
    ({"spos": {"method_settings": {"evolution": {"population": "many"}}}},
     "'many' for spos.method_settings.evolution.population: searcher 'evolution' wants int"),
    ({"spos": {"method_settings": {"evolution": {"population": True}}}},
     "True for spos.method_settings.evolution.population"),
    ({"spos": {"method_settings": {"uniform": {"k": 3}}}},
     "'spos.method_settings.uniform': sampler 'uniform' takes no settings"),
    ({"spos": {"method_settings": {"bestup": {"k": 3}}}},
     "'spos.method_settings.bestup': no method of that name is listed in spos.methods"),
    ({"attentivenas": {"method_settings": {"bestup": {"scorer": "oracle"}}}},
     "'oracle' for attentivenas.method_settings.bestup.scorer"),
    ({"darts_snas": {"arch_betas": [0.5, "x"]}}, None),  # the schema refuses it first
])
def test_bad_method_settings_are_one_line_config_errors(override: dict,
                                                        message: str | None) -> None:
    """Unknown keys, wrong types, a method that takes none, or an entry naming no listed
    method: one line naming the key and the fix, before any job (check_names)."""
    from nasrepro.config import check_names, load_config
    from nasrepro.errors import ConfigError

    with pytest.raises(ConfigError) as err:
        check_names(load_config("tiny", override))
    assert "\n" not in str(err.value)
    if message is not None:
        assert message in str(err.value)


def test_a_plugin_with_typed_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The toy searcher's own knob (``fraction``) is set in method_settings; its population
    comes from the paper's search section."""
    from nasrepro.config import load_config

    monkeypatch.setenv("NASREPRO_METHODS", str(REPO / "tests" / "toy_methods"))
    config = load_config("tiny", {"spos": {
        "methods": {"searcher": ["evolution", "toy-search"]},
        "method_settings": {"toy-search": {"fraction": 0.25}}}})
    s = registry.method_settings(config, "spos", "searcher", "toy-search")
    assert (s.fraction, s.population) == (0.25, config["spos"]["search"]["population"])


def test_settings_must_be_a_dataclass() -> None:
    with pytest.raises(registry.RegistryError, match="not a dataclass"):
        registry.register_method("bad-settings", kind="searcher", papers=("spos",),
                                 settings=dict)


def test_methods_command_prints_settings() -> None:
    out = run_cli("methods", "--kind", "searcher", "--settings")
    assert out.returncode == 0
    assert "settings: population=50, topk=10" in out.stdout
    assert "settings: (none)" in out.stdout  # random-cell
