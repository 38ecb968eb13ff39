"""The one run-directory harness (`nasrepro.harness.Run`): every job's epilogue."""

from __future__ import annotations

import time
from pathlib import Path

from nasrepro.harness import Run
from nasrepro.io import read_json
from nasrepro.training.checkpoint import CHECKPOINT_NAME


def test_finish_deletes_the_checkpoint_and_writes_provenance(tmp_path: Path) -> None:
    run = Run()
    (tmp_path / CHECKPOINT_NAME).write_bytes(b"resume state")
    (tmp_path / "metrics.json").write_text("{}")
    time.sleep(0.01)
    run.finish(tmp_path, {"profile": "tiny", "seeds": [0]}, seed=3, device="cpu",
               dataset_checksum="abc", extra={"step": "toy"})
    assert not (tmp_path / CHECKPOINT_NAME).exists()
    assert (tmp_path / "metrics.json").exists()  # results stay
    prov = read_json(tmp_path / "provenance.json")
    assert prov["seed"] == 3 and prov["dataset_checksum"] == "abc" and prov["step"] == "toy"
    assert prov["wall_time_s"] >= 0.01
    assert "seeds" in (tmp_path / "config.resolved.yaml").read_text()


def test_finish_without_a_checkpoint(tmp_path: Path) -> None:
    Run().finish(tmp_path, {"profile": "tiny"}, seed=None)
    assert read_json(tmp_path / "provenance.json")["seed"] is None
