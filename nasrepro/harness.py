"""The one run-directory harness of every pipeline job (issue 14, item 2).

Every job of every paper starts a :class:`Run` when it starts and calls :meth:`Run.finish` when
its results are written: that deletes the resume checkpoint (``checkpoint.pt``, only for
resuming a killed job) and writes ``config.resolved.yaml`` + ``provenance.json`` (commit, code
state, versions, device, seed, wall time, dataset checksum, the job's own extras) beside the
results. The result files themselves are written atomically by :mod:`nasrepro.io`; the wall
time lives only in the provenance, so result files stay bit-identical across reruns.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from nasrepro.io import is_writer, write_provenance
from nasrepro.training.checkpoint import CHECKPOINT_NAME


class Run:
    """A job's clock, started at construction; :meth:`finish` is the job's epilogue."""

    def __init__(self) -> None:
        self.start = time.time()

    def elapsed(self) -> float:
        """Seconds since the job started."""
        return time.time() - self.start

    def finish(self, run_dir: str | Path, config: dict, *, seed: int | None,
               device: str = "cpu", dataset_checksum: str | None = None,
               extra: dict[str, Any] | None = None) -> None:
        """Delete ``run_dir/checkpoint.pt`` (finished: the checkpoint is only for resuming)
        and write the run's resolved config and provenance into ``run_dir``."""
        run_dir = Path(run_dir)
        if not is_writer():  # rank 0 of a several-rank job finishes the run directory
            return
        (run_dir / CHECKPOINT_NAME).unlink(missing_ok=True)
        write_provenance(run_dir, config=config, seed=seed, wall_time_s=self.elapsed(),
                         device=device, dataset_checksum=dataset_checksum, extra=extra)
