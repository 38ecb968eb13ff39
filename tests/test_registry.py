"""Method registry: plug-ins in methods/ and $NASREPRO_METHODS register and are found."""

from __future__ import annotations

import pytest

from nasrepro import registry
from nasrepro.errors import UnknownNameError
from tests.conftest import REPO


def test_builtin_spos_methods_are_registered() -> None:
    names = {(e.kind, e.name) for e in registry.list_methods("spos")}
    assert {("sampler", "uniform"), ("sampler", "flops-binned"),
            ("searcher", "evolution"), ("searcher", "random")} <= names


def test_plugin_folder_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NASREPRO_METHODS", str(REPO / "tests" / "toy_methods"))
    entry = registry.get_method("spos", "toy-search", kind="searcher")
    assert entry.kind == "searcher" and "toy" in entry.description.lower()


def test_unknown_method_lists_known_ones() -> None:
    with pytest.raises(UnknownNameError) as err:
        registry.get_method("spos", "does-not-exist", kind="sampler")
    assert "uniform" in str(err.value) and "\n" not in str(err.value)


def test_kind_mismatch_is_unknown() -> None:
    with pytest.raises(UnknownNameError):
        registry.get_method("spos", "uniform", kind="searcher")
