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
