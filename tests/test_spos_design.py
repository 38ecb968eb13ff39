"""SPOS Tables 3/4 design (issue 12): the main chain (block supernet with the main sampler, its
searches and retrains) replicates over ``spos.seeds``; every other row over
``spos.display_seeds``; both fall back to the profile's seeds."""

from __future__ import annotations

import pytest

from nasrepro.errors import ConfigError
from nasrepro.experiments.spos import role_spec
from nasrepro.experiments.spos_design import (
    display_seeds,
    main_seeds,
    role_seeds,
    supernet_seeds,
)


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
