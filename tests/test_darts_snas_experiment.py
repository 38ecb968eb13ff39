"""SNAS vs DARTS experiment steps: groups, data halves, roles, methods, one tiny search."""

from __future__ import annotations

import copy
import json

import pytest
import torch

from nasrepro.config import load_config
from nasrepro.errors import ConfigError, UnknownNameError
from nasrepro.papers.darts_snas import experiment as ds
from nasrepro.registry import get_method, list_methods, method_settings


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> dict:
    from nasrepro.experiments.common import make_data_splits, splits_path

    cfg = load_config("tiny", {"results_dir": str(tmp_path_factory.mktemp("res")),
                               "progress": False})
    make_data_splits(cfg, splits_path(cfg))
    return cfg


def test_methods_registered() -> None:
    names = {e.name: e.kind for e in list_methods("darts_snas")}
    assert {"darts-1st": "relaxation", "darts-2nd": "relaxation", "snas": "relaxation",
            "random-cell": "searcher"}.items() <= names.items()


def test_groups(config: dict) -> None:
    gs = ds.groups(config)
    assert [g.label for g in gs] == ["darts-1st", "darts-2nd", "snas:none", "snas:mild",
                                     "snas:moderate", "snas:aggressive", "random-cell"]
    assert [g.dirname for g in gs][3] == "snas-mild"
    assert ds.group_of(config, "snas:mild") == ds.group_of(config, "snas-mild")
    with pytest.raises(UnknownNameError):
        ds.group_of(config, "snas-extreme")
    bad = copy.deepcopy(config)
    bad["darts_snas"]["snas_levels"] = ["extreme"]
    with pytest.raises(ConfigError, match="penalty_lambdas"):
        ds.groups(bad)


def test_search_data_halves_and_resize(config: dict) -> None:
    space = ds.search_space(config)
    search, ev, full = ds.search_data(config, space)
    n = full.train_x.shape[0] // 2
    assert torch.equal(search.train_x, full.train_x[:n])
    assert torch.equal(search.val_x, full.train_x[n:])  # DARTS's arch batches: 2nd half
    assert ev.val_x.shape[0] == config["darts_snas"]["eval_size"]
    cfg = copy.deepcopy(config)
    cfg["darts_snas"]["search_input_size"] = 4
    small = ds.search_space(cfg)
    s2, e2, _ = ds.search_data(cfg, small)
    assert tuple(s2.train_x.shape[1:]) == (1, 4, 4) == tuple(small.input_shape)
    assert tuple(e2.val_x.shape[1:]) == (1, 4, 4)


def test_random_cell_is_seeded_darts_style(config: dict) -> None:
    a = ds.role_spec(config, "random-cell", 0)
    b = ds.role_spec(config, "random-cell", 0)
    c = ds.role_spec(config, "random-cell", 1)
    assert a == b and a["arch"] != c["arch"]
    assert a["seed"] == config["seeds"][0] and c["seed"] == config["seeds"][1]
    for kind in ("normal", "reduce"):
        dsts = [e[2] for e in a["arch"][kind]]
        assert sorted(dsts) == [2, 2, 3, 3, 4, 4, 5, 5]
        assert "none" not in {e[0] for e in a["arch"][kind]}
    with pytest.raises(ConfigError, match="--input search=DIR"):
        ds.role_spec(config, "darts-1st", 0)
    with pytest.raises(ConfigError, match="out of range"):
        ds.role_spec(config, "random-cell", 7)


def test_retrain_setup_uses_eval_protocol(config: dict) -> None:
    space, cfg = ds.retrain_setup(config)
    assert space.cfg.auxiliary  # auxiliary head on
    assert cfg["drop_path"] == config["darts_snas"]["retrain_drop_path"] > 0
    assert cfg["cutout"] > 0


def test_snas_factory_uses_the_level_lambda(config: dict) -> None:
    space = ds.search_space(config)
    step = get_method("relaxation", "snas").factory(
        space, seed=0, settings=method_settings(config, "darts_snas", "relaxation", "snas"),
        epochs=3, edge_costs=None, penalty_lambda=0.0)
    assert step.rule == "snas" and step.epochs == 3
    assert float(step.arch.normal.detach().mean()) == pytest.approx(1.0, abs=0.01)  # N(1, 0.01)
    d2 = get_method("relaxation", "darts-2nd").factory(
        space, seed=0, epochs=3,
        settings=method_settings(config, "darts_snas", "relaxation", "darts-2nd"))
    assert d2.order == 2 and d2.rule == "darts"


def test_tiny_search_is_reproducible(config: dict, tmp_path) -> None:
    cfg = copy.deepcopy(config)
    cfg["darts_snas"]["search"].update({"epochs": 2, "steps_per_epoch": 1})
    cfg["darts_snas"]["eval_size"] = 50
    torch.set_num_threads(2)
    a = ds.run_group_search(cfg, "snas-aggressive", 0, tmp_path / "a")
    b = ds.run_group_search(cfg, "snas-aggressive", 0, tmp_path / "b")
    assert a == b
    assert (tmp_path / "a" / "log.csv").read_text() == (tmp_path / "b" / "log.csv").read_text()
    rows = [json.loads(x) for x in (tmp_path / "a" / "archs.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2]
    assert a["child_drop"] == pytest.approx(a["supernet_val_acc"] - a["child_val_acc"])
    assert a["edges_kept"] == sum(len(a["arch"][k]) for k in ("normal", "reduce"))
    with pytest.raises(ConfigError, match="baseline"):
        ds.run_group_search(cfg, "random-cell", 0, tmp_path / "c")



def test_snas_searches_on_the_whole_training_split(config: dict) -> None:
    """Official SNAS is single level on the whole training split; DARTS keeps its halves."""
    space = ds.search_space(config)
    snas, snas_ev, full = ds.search_data(config, space, ds.group_of(config, "snas-mild"))
    darts, _, _ = ds.search_data(config, space, ds.group_of(config, "darts-1st"))
    n = full.train_x.shape[0] // 2
    assert snas.train_x.shape[0] == full.train_x.shape[0] == 2 * darts.train_x.shape[0]
    assert torch.equal(darts.train_x, snas.train_x[:n])
    assert snas_ev.train_x.shape[0] == full.train_x.shape[0]
    cfg = copy.deepcopy(config)
    cfg["darts_snas"]["snas_search_data"] = "half"
    half, _, _ = ds.search_data(cfg, space, ds.group_of(cfg, "snas-mild"))
    assert torch.equal(half.train_x, darts.train_x)


def test_snas_children_retrain_with_bn_after_pools(config: dict) -> None:
    snas_space, _ = ds.retrain_setup(config, {"role": "snas-mild"})
    darts_space, _ = ds.retrain_setup(config, {"role": "darts-2nd"})
    assert snas_space.cfg.pool_bn and not darts_space.cfg.pool_bn
    arch = {"normal": [["max_pool_3x3", 0, 2], ["avg_pool_3x3", 1, 2]],
            "reduce": [["max_pool_3x3", 0, 2]]}
    assert snas_space.cost(arch).params > darts_space.cost(arch).params
    cfg = copy.deepcopy(config)
    cfg["darts_snas"]["snas_retrain_pool_bn"] = False
    assert not ds.retrain_setup(cfg, {"role": "snas-mild"})[0].cfg.pool_bn
