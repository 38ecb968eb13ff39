"""Pipeline steps through the CLI on the tiny profile: bit-identical reruns, provenance, and
one-line errors (missing dataset, NaN loss) that leave no result behind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nasrepro.config import load_config
from nasrepro.io import write_yaml


def _config_file(tmp_path: Path, **overrides) -> Path:
    cfg = load_config("tiny", {"results_dir": str(tmp_path / "results"), "progress": False,
                               **overrides})
    path = tmp_path / "config.resolved.yaml"
    write_yaml(path, cfg)
    return path


@pytest.fixture
def tiny_cfg(tmp_path: Path, cli) -> Path:
    cfg = _config_file(tmp_path)
    out = cli("data", "--config-file", str(cfg))
    assert out.returncode == 0, out.stderr
    return cfg


def test_data_step_writes_splits_with_checksum(tiny_cfg: Path, tmp_path: Path) -> None:
    splits_dir = tmp_path / "results" / "tiny" / "data" / "digits"
    splits = json.loads((splits_dir / "splits.json").read_text())
    assert len(splits["val"]) == 300 and not set(splits["val"]) & set(splits["train"])
    prov = json.loads((splits_dir / "provenance.json").read_text())
    assert prov["dataset_checksum"] == splits["checksum"]


def test_retrain_is_bit_identical_on_rerun(tiny_cfg: Path, tmp_path: Path, cli) -> None:
    outs = []
    for name in ("a", "b"):
        out = tmp_path / name
        proc = cli("retrain", "--config-file", str(tiny_cfg), "--paper", "spos",
                   "--cell", "fixed/all_choice_5", "--seed", "0", "--out", str(out))
        assert proc.returncode == 0, proc.stderr
        outs.append(out)
    for fname in ("metrics.json", "log.csv", "arch.json"):
        assert (outs[0] / fname).read_bytes() == (outs[1] / fname).read_bytes(), fname
    metrics = json.loads((outs[0] / "metrics.json").read_text())
    assert metrics["arch"]["blocks"] == [1] * len(metrics["arch"]["blocks"])
    assert 10 < metrics["test_acc"] <= 100
    for fname in ("config.resolved.yaml", "provenance.json"):
        assert (outs[0] / fname).exists()


def test_retrain_with_an_explicit_arch_and_malformed_arch(tiny_cfg: Path, tmp_path: Path,
                                                          cli) -> None:
    bad = cli("retrain", "--config-file", str(tiny_cfg), "--paper", "spos", "--arch",
              '{"blocks": [0, 9, 0, 0, 0]}', "--out", str(tmp_path / "bad"))
    assert bad.returncode == 2 and bad.stderr.startswith("error: ")
    assert len(bad.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "bad" / "metrics.json").exists()


def test_nan_loss_is_one_line_and_leaves_no_metrics(tmp_path: Path, cli) -> None:
    cfg = _config_file(tmp_path, spos={"retrain": {"epochs": 2, "batch_size": 64, "lr": 1e30,
                                                   "momentum": 0.0}})
    assert cli("data", "--config-file", str(cfg)).returncode == 0
    out = tmp_path / "nan"
    proc = cli("retrain", "--config-file", str(cfg), "--paper", "spos", "--cell",
               "fixed/all_choice_3", "--seed", "0", "--out", str(out))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "nan" in lines[0].lower() and "lr" in lines[0]
    assert not (out / "metrics.json").exists()


def test_missing_dataset_is_one_line(tmp_path: Path, cli) -> None:
    cfg = _config_file(tmp_path, data={"dataset": "cifar10", "path": str(tmp_path / "nowhere")})
    proc = cli("data", "--config-file", str(cfg), env={"NASREPRO_DATA": str(tmp_path / "cache")})
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "cifar" in lines[0].lower()
    assert not list((tmp_path / "results").rglob("splits.json"))


def test_preset_dataset_mismatch_is_reported(tmp_path: Path, cli) -> None:
    cfg = _config_file(tmp_path, spos={"preset": "spos/small"})
    assert cli("data", "--config-file", str(cfg)).returncode == 0
    proc = cli("retrain", "--config-file", str(cfg), "--paper", "spos", "--cell",
               "fixed/all_choice_3", "--seed", "0", "--out", str(tmp_path / "r"))
    assert proc.returncode == 2 and "expects input" in proc.stderr


def test_imagenet_profile_data_step_says_what_is_missing(cli) -> None:
    """Without an ImageNet folder at data.path the data job names the folder and the fix in
    one line (tests/test_imagenet_data.py runs it on a generated folder)."""
    proc = cli("data", "--profile", "imagenet", "--config-override",
               '{"data": {"path": "/nonexistent/imagenet"}}')
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "ImageNet folder /nonexistent/imagenet has no train/" in lines[0]
    assert "point data.path at a folder with train/<wnid>/" in lines[0]
