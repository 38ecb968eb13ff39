"""Seeds per stage (issue 12). SPOS Tables 3/4: the main chain (block supernet with the main
sampler, its searches and retrains) replicates over ``spos.seeds``; every other row over
``spos.display_seeds``; both fall back to the profile's seeds. FBNetV3 retrains over
``fbnetv3.retrain_seeds``."""

from __future__ import annotations

import pytest

from nasrepro.errors import ConfigError
from nasrepro.papers.spos.experiment import role_spec
from nasrepro.papers.spos.grid import (
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
    c = _config(seeds=[0, 1, 2, 3], display_seeds=[9], baseline_widths="plain")
    c["spos"]["preset"] = "spos/tiny"
    spec = role_spec(c, "fixed/all_choice_3", 0)
    assert spec["seed"] == 9
    with pytest.raises(ConfigError, match="has runs 0..0"):
        role_spec(c, "fixed/all_choice_3", 1)


def test_fbnetv3_retrain_seeds_override_the_profile_seeds() -> None:
    """``fbnetv3.retrain_seeds`` (recipe swap) and ``fbnetv3.display_retrain_seeds`` (AutoTrain,
    arch-only; issue 12): run i of a role trains with seed i of its list; an index past it is
    a one-line error naming the list."""
    from nasrepro.config import load_config, seeds_of
    from nasrepro.papers.fbnetv3.experiment import role_spec
    from nasrepro.papers.fbnetv3.grid import role_retrain_seeds

    config = load_config("tiny")
    assert seeds_of(config, "fbnetv3", "retrain_seeds") == config["seeds"]
    config["fbnetv3"]["retrain_seeds"] = [3, 4, 5, 6]
    assert seeds_of(config, "fbnetv3", "retrain_seeds") == [3, 4, 5, 6]
    # the display roles follow retrain_seeds until display_retrain_seeds is set
    assert role_spec(config, "autotrain/default", 3)["seed"] == 6
    with pytest.raises(ConfigError, match="0..3 .4 fbnetv3.display_retrain_seeds"):
        role_spec(config, "autotrain/default", 4)
    config["fbnetv3"]["display_retrain_seeds"] = [7]
    assert role_retrain_seeds(config, "search/arch_only") == [7]
    assert role_retrain_seeds(config, "swap/A_recipeB") == [3, 4, 5, 6]
    assert role_spec(config, "swap/A_recipeA", 2)["seed"] == 5
    with pytest.raises(ConfigError, match="0..0 .1 fbnetv3.display_retrain_seeds"):
        role_spec(config, "autotrain/autotrain", 1)


def test_darts_snas_and_attentivenas_seed_lists() -> None:
    """``darts_snas.seeds`` (searches), ``darts_snas.retrain_seeds`` (a subset: retrain i
    derives its cell from the search at seed i) and ``attentivenas.seeds`` (issue 12)."""
    from nasrepro.config import load_config, seeds_of
    from nasrepro.papers.darts_snas.experiment import role_spec

    config = load_config("tiny", {"darts_snas": {"seeds": [2, 5], "retrain_seeds": [5]},
                                  "attentivenas": {"seeds": [4]}})
    assert seeds_of(config, "darts_snas") == [2, 5]
    assert seeds_of(config, "darts_snas", "retrain_seeds", "seeds") == [5]
    assert seeds_of(config, "attentivenas") == [4]
    assert role_spec(config, "random-cell", 0)["seed"] == 5
    with pytest.raises(ConfigError, match="there are 1 retrain seeds"):
        role_spec(config, "random-cell", 1)
    # without retrain_seeds the retrains follow the searches
    config = load_config("tiny", {"darts_snas": {"seeds": [2, 5]}})
    assert seeds_of(config, "darts_snas", "retrain_seeds", "seeds") == [2, 5]
    with pytest.raises(ConfigError, match="darts_snas.retrain_seeds.*seed.s. 7 have no search"):
        load_config("tiny", {"darts_snas": {"seeds": [0, 1], "retrain_seeds": [1, 7]}})


def test_a_malformed_search_role_is_a_one_line_config_error() -> None:
    with pytest.raises(ConfigError, match="search/<supernet>/<sampler>/<searcher>"):
        role_seeds(_config(), "search/block")


def test_width_matching_follows_its_stated_rule_on_the_tiny_space() -> None:
    """SPOS Table 3's all-choice rows at similar FLOPs: the widest scale every layer can take
    within the target, then layer by layer one scale wider while the total stays within it.
    Checked against a brute force over the same two-level family of channel vectors."""
    from itertools import product

    from nasrepro.papers.spos.experiment import width_matched
    from nasrepro.spaces import get_space

    space = get_space("spos/tiny", search_blocks=True, search_channels=True)
    blocks = [2] * 5
    uniform = [space.cost({"blocks": blocks, "channels": [j] * 5}).macs
               for j in range(space.num_scales)]
    assert uniform == sorted(uniform)  # wider scales cost more
    for target in (uniform[3] - 1, uniform[3], (uniform[3] + uniform[4]) // 2, uniform[-1] * 2):
        arch = width_matched(space, blocks, target)
        macs = space.cost(arch).macs
        base = max(j for j, m in enumerate(uniform) if m <= target)
        assert set(arch["channels"]) <= {base, base + 1} and macs <= target
        # no single further widening fits (the greedy pass ended at the target)
        for i, c in enumerate(arch["channels"]):
            if c == base and base + 1 < space.num_scales:
                wider = [*arch["channels"][:i], base + 1, *arch["channels"][i + 1:]]
                assert space.cost({"blocks": blocks, "channels": wider}).macs > target
        # and the greedy result is within one layer's widening of the best two-level fit
        best = max(m for m in (space.cost({"blocks": blocks, "channels": list(ch)}).macs
                               for ch in product((base, min(base + 1, space.num_scales - 1)),
                                                 repeat=5)) if m <= target)
        steps = [space.cost({"blocks": blocks, "channels": [base + (k == i) for k in range(5)]}
                            ).macs - uniform[base] for i in range(5)] \
            if base + 1 < space.num_scales else [0]
        assert best - macs <= max(steps)
    # a target below the narrowest uniform net gives the narrowest scale everywhere
    assert width_matched(space, blocks, 1)["channels"] == [0] * 5


def test_all_choice_baselines_are_width_matched_to_the_macs_limit_unless_plain() -> None:
    """Default ``spos.baseline_widths: matched``: every all-choice arch of the tiny and
    default profiles lies within 2 % below the search's MACs limit (the paper: 321-327M
    against 330M); ``plain`` keeps scale 1.0 and its MACs spread by kernel size."""
    from nasrepro.config import load_config
    from nasrepro.papers.spos.experiment import baseline_arch, macs_limit, supernet_space

    for profile in ("tiny", "default"):
        config = load_config(profile)
        limit = macs_limit(config)
        space = supernet_space(config, "block_channel")
        for name in ("all_choice_3", "all_choice_5", "all_choice_7", "all_choice_x"):
            arch = baseline_arch(config, name)
            assert len(set(arch["blocks"])) == 1
            assert 0.98 * limit <= space.cost(arch).macs <= limit, (profile, name)
        config["spos"]["baseline_widths"] = "plain"
        plain = [space.cost(baseline_arch(config, f"all_choice_{k}")).macs for k in "357"]
        assert plain[0] < plain[1] < plain[2]
        assert set(baseline_arch(config, "all_choice_5")["channels"]) == {
            space.default_channel}
