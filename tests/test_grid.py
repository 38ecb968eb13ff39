"""The grid interface every paper has (:mod:`nasrepro.stages`, issue 14): the runs of each stage,
what each reads, what the tables and figures read. The rules `<paper>_<stage>` are made from
it (workflow/rules/stages.smk), so its invariants are the DAG's."""

from __future__ import annotations

import pytest

from nasrepro.config import check_names, load_config
from nasrepro.errors import ConfigError
from nasrepro.paths import RUN_STAGES, finished, run_path
from nasrepro.stages import grid_of


def _paths(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


@pytest.mark.parametrize("profile", ["tiny", "default", "cifar10", "imagenet"])
def test_every_input_is_a_run_of_the_grid_or_a_study_file(profile: str) -> None:
    config = load_config(profile)
    for paper in config["papers"]:
        grid = grid_of(paper)
        runs = {st: grid.runs(config, st) for st in RUN_STAGES}
        finished_runs = {finished(run_path(paper, st, c, s)) for st in RUN_STAGES
                         for c, s in runs[st]}
        for stage, listed in runs.items():
            assert len(listed) == len(set(listed)), (paper, stage)  # one job per run
            for cell, seed in listed:
                for name, value in grid.run_inputs(config, stage, cell, seed).items():
                    for path in _paths(value):
                        assert path in finished_runs or f"{paper}/study/" in path, \
                            (paper, stage, cell, seed, name, path)
        read = [*grid.table_inputs(config), *grid.figure_inputs(config)]
        assert read, paper
        for path in read:
            assert path in finished_runs or path.startswith(f"{paper}/study/"), (paper, path)


def test_runs_and_inputs_of_a_few_known_cells() -> None:
    config = load_config("tiny")
    spos, fb, an = grid_of("spos"), grid_of("fbnetv3"), grid_of("attentivenas")
    # a SPOS search reads its supernet's run; its retrain reads the search at the same seed
    assert spos.run_inputs(config, "search", "block/uniform/evolution", 1) == {
        "supernet": "spos/train_supernet/block/uniform/seed1/provenance.json"}
    assert spos.run_inputs(config, "retrain", "search/block/uniform/evolution", 1) == {
        "search": "spos/search/block/uniform/evolution/seed1/provenance.json"}
    assert spos.run_inputs(config, "retrain", "fixed/all_choice_3", 0) == {}
    # every supernet that a search reads is trained, and nothing else
    supernets = {(c.rsplit("/", 1)[0], s) for c, s in spos.runs(config, "search")}
    assert set(spos.runs(config, "train_supernet")) == supernets
    # FBNetV3: a retrain per role and seed; a swap role reads both joint searches
    seed = config["fbnetv3"]["search_seed"]
    assert fb.run_inputs(config, "retrain", "swap/A_recipeB", 0) == {
        "arch": f"fbnetv3/search/A_joint/seed{seed}/provenance.json",
        "recipe": f"fbnetv3/search/B_joint/seed{seed}/provenance.json"}
    assert fb.run_inputs(config, "retrain", "autotrain/default", 0) == {}
    assert len(fb.runs(config, "retrain")) == sum(
        len(fb.role_retrain_seeds(config, r)) for r in fb.role_sources(config))
    # the replicate searches (F1, F2, F5 at the method level): every search again at each
    # replicate seed, every role again retrained from that seed's best.json files
    assert config["fbnetv3"]["replicate_search_seeds"] == [1]
    assert {(name, 1) for name in fb.SEARCHES} < set(fb.runs(config, "search"))
    assert fb.run_inputs(config, "retrain", "swap/B_recipeA_s1", 0) == {
        "arch": "fbnetv3/search/B_joint/seed1/provenance.json",
        "recipe": "fbnetv3/search/A_joint/seed1/provenance.json"}
    assert fb.run_inputs(config, "retrain", "search/arch_only_s1", 1) == {
        "arch": "fbnetv3/search/A_arch_only/seed1/provenance.json"}
    assert fb.run_inputs(config, "retrain", "autotrain/autotrain_s1", 0) == {
        "recipe": "fbnetv3/search/A_autotrain/seed1/provenance.json"}
    # AutoTrain's unit 1 retrains at its own named seeds (its comparator is no search result)
    unit1 = fb.role_retrain_seeds(config, "autotrain/default_s1")
    assert unit1 == fb.role_retrain_seeds(config, "autotrain/autotrain_s1")
    assert set(unit1).isdisjoint(fb.role_retrain_seeds(config, "autotrain/default"))
    assert fb.role_retrain_seeds(config, "swap/A_recipeA_s1") == fb.role_retrain_seeds(
        config, "swap/A_recipeA")
    clash = load_config("tiny", {"fbnetv3": {"replicate_search_seeds": [0, 1]}})
    with pytest.raises(ConfigError, match="repeats fbnetv3.search_seed 0"):
        fb.runs(clash, "search")
    with pytest.raises(ConfigError, match="repeats fbnetv3.search_seed 0"):
        check_names(clash)  # before any job: the Snakefile's one-line error
    # AttentiveNAS: the short run is trained and evaluated once, next to the main ones
    assert an.short_run(config) in an.runs(config, "search")
    assert an.run_inputs(config, "search", "main/bestup", 0)["supernet"] == \
        "attentivenas/train_supernet/main/bestup/seed0/provenance.json"
