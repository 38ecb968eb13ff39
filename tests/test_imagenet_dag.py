"""The imagenet profile runs on an ImageNet-style folder (issue 16): a generated folder of small
JPEGs, the profile at tiny settings (tests/imagenet_folder.py), every kind of job that reads
the data (SPOS supernet training, evolution with BN recalibration and retraining; an
AttentiveNAS BestUp supernet and its Pareto search; FBNetV3 predictor pretraining, a joint
search and a recipe-swap retrain) through Snakemake.

The whole DAG (tables, claims, report too) is `make imagenet-smoke` (about 3 minutes on two
cores: 53 jobs); this test runs the 10 jobs that read images, to keep `make test` short."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.conftest import REPO
from tests.imagenet_folder import tiny_imagenet_overlay, wnids, write_folder

#: runs (a stage rule's target is its run's provenance.json, written last)
TARGETS = ("spos/retrain/search/block/uniform/evolution/seed0",
           "attentivenas/search/main/bestup/seed0",
           "fbnetv3/retrain/swap/A_recipeA/seed0")


@pytest.fixture(scope="module")
def imagenet_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("imagenet_dag")
    folder = write_folder(root / "folder", wnids(10), n_train=10, n_val=3)
    overlay = root / "overlay.yaml"
    overlay.write_text(yaml.safe_dump(tiny_imagenet_overlay(folder)))
    results = root / "results" / "imagenet"
    targets = [str(results / t / "provenance.json") for t in TARGETS]
    cmd = [sys.executable, "-m", "snakemake", *targets,
           "--cores", "2", "--quiet", "rules", "--nolock", "--configfile", str(overlay),
           "--config", "profile=imagenet", f"results_dir={root / 'results'}",
           f"paper_dir={root / 'paper'}"]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=900,
                          env=dict(os.environ, NASREPRO_OFFLINE="1"))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return results


def test_every_data_reading_job_runs_on_the_folder(imagenet_run: Path) -> None:
    splits = json.loads((imagenet_run / "data" / "imagenet" / "splits.json").read_text())
    assert len(splits["classes"]) == 10 and len(splits["val"]) == 20
    for target in TARGETS[::2]:
        metrics = json.loads((imagenet_run / target / "metrics.json").read_text())
        assert 0.0 <= metrics["test_acc"] <= 100.0, metrics
    subnets = pd.read_csv(imagenet_run / TARGETS[1] / "subnets.csv")
    assert {"min", "max"} <= set(subnets["name"]) and len(subnets) == 16 + 2
    assert subnets["acc"].between(0.0, 100.0).all() and (subnets["macs"] > 0).all()


def test_runs_record_the_folder_and_the_streaming_settings(imagenet_run: Path) -> None:
    supernet = imagenet_run / "spos" / "train_supernet" / "block" / "uniform" / "seed0"
    prov = json.loads((supernet / "provenance.json").read_text())
    data_prov = json.loads((imagenet_run / "data" / "imagenet" / "provenance.json").read_text())
    assert prov["dataset_checksum"] == data_prov["dataset_checksum"]
    resolved = yaml.safe_load((supernet / "config.resolved.yaml").read_text())
    assert resolved["data"]["dataset"] == "imagenet" and resolved["data"]["image_size"] == 16
    assert resolved["spos"]["preset"] == "spos/tiny-rgb"

