"""Seeds per stage (issue 12). SPOS Tables 3/4: the main chain (block supernet with the main
sampler, its searches and retrains) replicates over ``spos.seeds``; every other row over
``spos.display_seeds``; both fall back to the profile's seeds. FBNetV3 retrains over
``fbnetv3.retrain_seeds``."""

from __future__ import annotations

import pytest

from nasrepro.errors import ConfigError
from nasrepro.papers.spos.design import (
    display_seeds,
    main_seeds,
    role_seeds,
    supernet_seeds,
)
from nasrepro.papers.spos.experiment import role_spec


def _config(**spos: object) -> dict:
    return {"seeds": [0, 1, 2], "spos": {"main_sampler": "uniform", "n_random": 4, **spos}}


def test_everything_follows_the_profile_seeds_by_default() -> None:
    c = _config()
    assert main_seeds(c) == display_seeds(c) == [0, 1, 2]
    for role in ("fixed/all_choice_3", "search/block/uniform/evolution",
                 "search/channel/uniform/evolution", "search/block/flops-binned/random"):
        assert role_seeds(c, role) == [0, 1, 2]
    assert role_seeds(c, "random/block") == [0, 1, 2, 3]  # indices of n_random archs


def test_main_chain_and_display_rows_have_their_own_seeds() -> None:
    c = _config(seeds=[0, 1, 2, 3, 4, 5], display_seeds=[7])
    assert supernet_seeds(c, "block", "uniform") == [0, 1, 2, 3, 4, 5]
    assert supernet_seeds(c, "block", "flops-binned") == [7]
    assert supernet_seeds(c, "channel", "uniform") == [7]
    assert role_seeds(c, "search/block/uniform/random") == [0, 1, 2, 3, 4, 5]
    assert role_seeds(c, "search/block_channel/uniform/evolution") == [7]
    assert role_seeds(c, "fixed/all_choice_x") == [7]
    assert role_seeds(c, "random/channel") == [0, 1, 2, 3]
    # display seeds default to the SPOS main seeds, not the profile's
    assert display_seeds(_config(seeds=[4, 5])) == [4, 5]


def test_a_run_index_is_checked_against_its_role_and_takes_that_roles_seed() -> None:
    c = _config(seeds=[0, 1, 2, 3], display_seeds=[9])
    c["spos"]["preset"] = "spos/tiny"
    spec = role_spec(c, "fixed/all_choice_3", 0)
    assert spec["seed"] == 9
    with pytest.raises(ConfigError, match="has runs 0..0"):
        role_spec(c, "fixed/all_choice_3", 1)


def test_fbnetv3_retrain_seeds_override_the_profile_seeds() -> None:
    """``fbnetv3.retrain_seeds`` (issue 12: the cheapest replicates get more seeds): run i of a
    role trains with seed i of that list; an index past it is a one-line error."""
    from nasrepro.config import load_config, seeds_of
    from nasrepro.papers.fbnetv3.experiment import role_spec

    config = load_config("tiny")
    assert seeds_of(config, "fbnetv3", "retrain_seeds") == config["seeds"]
    config["fbnetv3"]["retrain_seeds"] = [3, 4, 5, 6]
    assert seeds_of(config, "fbnetv3", "retrain_seeds") == [3, 4, 5, 6]
    assert role_spec(config, "autotrain/default", 3)["seed"] == 6
    with pytest.raises(ConfigError, match="0..3 .4 fbnetv3.retrain_seeds"):
        role_spec(config, "autotrain/default", 4)


def test_full_switch_restores_every_row_at_every_profile_seed() -> None:
    from nasrepro.config import load_config, seeds_of
    from nasrepro.papers.spos.design import role_seeds

    allocated = load_config("default")
    assert len(role_seeds(allocated, "search/block/uniform/evolution")) > \
        len(role_seeds(allocated, "fixed/all_choice_3"))
    full = load_config("default", {"full": True})
    profile_seeds = full["seeds"]
    for role in ("search/block/uniform/evolution", "fixed/all_choice_3",
                 "search/channel/uniform/evolution"):
        assert role_seeds(full, role) == profile_seeds
    assert seeds_of(full, "fbnetv3", "retrain_seeds") == profile_seeds


def test_a_malformed_search_role_is_a_one_line_config_error() -> None:
    with pytest.raises(ConfigError, match="search/<supernet>/<sampler>/<searcher>"):
        role_seeds(_config(), "search/block")
