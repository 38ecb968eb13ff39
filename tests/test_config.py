"""Profiles load, fill defaults, and reject bad keys/values with one clear line."""

from __future__ import annotations

import pytest

from nasrepro.config import deep_merge, list_profiles, load_config
from nasrepro.errors import ConfigError


def test_every_profile_loads_and_validates() -> None:
    assert {"tiny", "default", "cifar10", "imagenet"} <= set(list_profiles())
    for name in list_profiles():
        cfg = load_config(name)
        assert cfg["profile"] == name
        assert cfg["spos"]["search"]["mutation_prob"] >= 0


def test_defaults_are_filled_in() -> None:
    cfg = load_config("tiny")
    # not written in config/tiny.yaml: comes from the schema's defaults
    assert cfg["results_dir"] == "results"
    assert cfg["spos"]["main_searcher"] == "evolution"
    assert cfg["spos"]["retrain"]["optimizer"] == "sgd"
    assert cfg["spos"]["retrain"]["no_wd_bn_bias"] is True


def test_default_profile_has_at_least_three_seeds() -> None:
    assert len(load_config("default")["seeds"]) >= 3


def test_overrides_merge_deeply() -> None:
    cfg = load_config("tiny", {"spos": {"search": {"population": 10}}})
    assert cfg["spos"]["search"]["population"] == 10
    assert cfg["spos"]["search"]["generations"] == load_config("tiny")["spos"]["search"][
        "generations"]
    assert deep_merge({"a": {"b": 1, "c": 2}}, {"a": {"b": 3}}) == {"a": {"b": 3, "c": 2}}


def test_unknown_profile_is_one_clear_line() -> None:
    with pytest.raises(ConfigError) as err:
        load_config("nope")
    msg = str(err.value)
    assert "unknown profile 'nope'" in msg and "tiny" in msg and "\n" not in msg


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ({"seeds": [-1]}, "seeds.0"),
        ({"spos": {"search": {"mutation_prob": 2.0}}}, "spos.search.mutation_prob"),
        ({"spos": {"retrain": {"schedule": "zigzag"}}}, "spos.retrain.schedule"),
        ({"spos": {"bogus_key": 1}}, "spos"),
        ({"data": {"dataset": "mnist3d"}}, "data.dataset"),
    ],
)
def test_invalid_values_name_the_key(override: dict, key: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config("tiny", override)
    msg = str(err.value)
    assert f"'{key}'" in msg and "\n" not in msg and "fix" in msg


def test_every_paper_lists_its_methods_by_kind() -> None:
    from nasrepro.config import methods_of

    cfg = load_config("tiny")
    assert methods_of(cfg, "spos", "sampler") == ["uniform", "flops-binned"]
    assert methods_of(cfg, "attentivenas", "searcher") == ["pareto-evolution"]
    assert methods_of(cfg, "darts_snas", "relaxation") == ["darts-1st", "darts-2nd", "snas"]
    assert methods_of(cfg, "fbnetv3", "predictor") == ["pretrained", "scratch", "random_forest"]
    # an override of one kind keeps the other kinds of the profile
    over = load_config("tiny", {"spos": {"methods": {"searcher": ["random"]}}})
    assert methods_of(over, "spos", "sampler") == ["uniform", "flops-binned"]


@pytest.mark.parametrize(("override", "moved_to"), [
    ({"spos": {"samplers": ["uniform"]}}, "spos.methods.sampler"),
    ({"spos": {"searchers": ["random"]}}, "spos.methods.searcher"),
    ({"attentivenas": {"searcher": "evolution"}}, "attentivenas.methods.searcher"),
    ({"fbnetv3": {"predictor_methods": ["scratch"]}}, "fbnetv3.methods.predictor"),
    ({"darts_snas": {"methods": ["darts-1st"]}}, "relaxation: [darts-1st"),
])
def test_keys_of_earlier_versions_name_their_new_place(override: dict, moved_to: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config("tiny", override)
    assert moved_to in str(err.value) and "\n" not in str(err.value)


def test_a_kind_the_paper_does_not_use_is_rejected() -> None:
    with pytest.raises(ConfigError, match="relaxation"):
        load_config("tiny", {"spos": {"methods": {"relaxation": ["darts-1st"]}}})
