"""Threads and determinism of a job, pinned from the config's ``threads`` key (issue 17).

A job's results must not depend on the machine's default thread counts, on the environment it
was started from, or on how many jobs Snakemake runs beside it. Two places pin that:

* :func:`pin_thread_env` — before torch/numpy are imported (``nasrepro.cli.main`` calls it
  first), the OpenMP/BLAS environment (``OMP_NUM_THREADS``, ``MKL_NUM_THREADS``,
  ``OPENBLAS_NUM_THREADS`` ...) is set from the config. It overrides what the caller set,
  including Snakemake, which exports the job's *scaled* ``threads`` (fewer under ``--cores 1``).
* :func:`pin_torch` — torch's intra- and inter-op thread pools from the same number, and
  ``torch.use_deterministic_algorithms(True)`` (on the CPU every op used here has a
  deterministic kernel, so nothing is slowed or refused; on CUDA it only warns, and cuDNN
  autotuning is off).

* :func:`pin_cpu_isa` — also before torch loads, the instruction set every CPU kernel library
  may use, from the config's ``cpu_isa`` key. torch's ATen, oneDNN and MKL each pick AVX2,
  AVX-512 or AMX code paths at run time, and those round differently: on an AVX-512 machine
  the tiny DAG differed from a reference made on an AVX2 machine in 445 table cells (SPOS
  retrains up to 12 points apart). ``cpu_isa: avx2`` (every shipped profile) caps all three at AVX2
  (``ATEN_CPU_CAPABILITY``, ``ONEDNN_MAX_CPU_ISA``, ``MKL_CBWR``), which reproduced that
  reference exactly on the AVX-512 machine; ``native`` leaves the caller's environment alone.

``avx2`` is not enough across vendors or cache sizes: MKL runs another code path on Intel than
on AMD under the same cap, and oneDNN picks its convolution blockings (the order of a sum) by
cache size. ``cpu_isa: portable`` (the tiny profile, whose reference the tests check) therefore
also takes both out of the sums: MKL on its ``COMPATIBLE`` branch (its Conditional Numerical
Reproducibility mode for Intel and AMD alike), convolutions on ATen's own kernels (oneDNN and
NNPACK off, :func:`pin_torch`), and numpy/scipy's OpenBLAS on its Haswell kernels (which a
DYNAMIC_ARCH build would otherwise choose by CPU). It costs time: the tiny DAG takes about 1.6x
as long on 2 cores (depthwise convolutions without oneDNN run one group at a time), the default
profile's larger networks 4.8x the job time of its AMD-made reference (its first 15 jobs on
an Intel Xeon), which is why that profile keeps ``avx2``.

What stays machine-dependent: a CPU without AVX2 (or not x86), and under ``avx2`` the vendor
and cache effects above; see "Verifying the reference" in docs/reproducibility.md.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

#: thread-count variables of OpenMP and the BLAS libraries torch, numpy and scipy link
THREAD_ENV_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                   "GOTO_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


def _option(argv: Sequence[str], name: str) -> str | None:
    for i, arg in enumerate(argv):
        if arg == name and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


#: the settings :func:`pin_job_env` reads from a command line's config, with their defaults
JOB_ENV_KEYS = {"threads": 1, "cpu_isa": "avx2"}


def job_env_settings(argv: Sequence[str]) -> dict[str, Any] | None:
    """``threads`` and ``cpu_isa`` of the config a ``nasrepro`` command line names
    (``--config-file`` or ``--profile``, else the default profile, with ``--config-override``);
    ``None`` when it cannot be read (the command itself then reports the problem)."""
    try:
        config_file = _option(argv, "--config-file")
        override = _option(argv, "--config-override")
        if config_file is not None:
            import yaml

            config = yaml.safe_load(Path(config_file).read_text()) or {}
            if override:
                from nasrepro.config import parse_config_override

                config.update({k: v for k, v in parse_config_override(override).items()
                               if k in JOB_ENV_KEYS})
        else:
            from nasrepro.config import load_job_config

            config = load_job_config(_option(argv, "--profile"), override)
        return {"threads": int(config.get("threads", JOB_ENV_KEYS["threads"])),
                "cpu_isa": str(config.get("cpu_isa", JOB_ENV_KEYS["cpu_isa"]))}
    except Exception:  # noqa: BLE001 - any failure here is reported by the command itself
        return None


def threads_from_argv(argv: Sequence[str]) -> int | None:
    """The ``threads`` of the config a command line names (:func:`job_env_settings`)."""
    settings = job_env_settings(argv)
    return None if settings is None else settings["threads"]


def pin_job_env(argv: Sequence[str]) -> None:
    """Threads and instruction set of the job ``argv`` describes, before torch loads."""
    settings = job_env_settings(argv)
    if settings is not None:
        pin_thread_env(settings["threads"])
        pin_cpu_isa(settings["cpu_isa"])


#: config ``cpu_isa`` -> the variables that cap ATen's dispatch, oneDNN's JIT kernels and MKL's
#: code path (MKL's Conditional Numerical Reproducibility branch) at that instruction set
CPU_ISA_ENV = {
    "avx2": {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_CBWR": "AVX2"},
    "portable": {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2",
                 "MKL_CBWR": "COMPATIBLE", "OPENBLAS_CORETYPE": "Haswell"},
    "native": {},
}

#: ``cpu_isa`` values whose convolutions run on ATen's own kernels (oneDNN and NNPACK off)
ATEN_CONV_ISAS = frozenset({"portable"})


def pin_cpu_isa(isa: str) -> None:
    """Cap every CPU kernel library at ``isa`` (a :data:`CPU_ISA_ENV` key; call before torch
    computes anything). ``avx2`` overrides the caller's variables; ``native`` leaves them."""
    if isa not in CPU_ISA_ENV:
        from nasrepro.errors import ConfigError

        raise ConfigError(f"unknown cpu_isa {isa!r}; use one of {', '.join(CPU_ISA_ENV)}")
    env = dict(CPU_ISA_ENV[isa])
    if "OPENBLAS_CORETYPE" in env and not _cpu_has_avx2():
        del env["OPENBLAS_CORETYPE"]  # forcing Haswell kernels would stop on an illegal instruction
    os.environ.update(env)


def _cpu_has_avx2() -> bool:
    try:
        return " avx2" in Path("/proc/cpuinfo").read_text()
    except OSError:
        return False


def pin_thread_env(threads: int) -> None:
    """Set every OpenMP/BLAS thread variable to ``threads`` (call before importing torch)."""
    for var in THREAD_ENV_VARS:
        os.environ[var] = str(threads)
    # cuBLAS needs a fixed workspace for deterministic matmuls (read when CUDA starts)
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")


def pin_torch(threads: int, device: str = "cpu", cpu_isa: str = "avx2") -> None:
    """Pin torch's intra-op and inter-op threads to ``threads``, turn deterministic
    algorithms on (CPU: strict; CUDA: warn on an op without a deterministic kernel), and run
    CPU convolutions on ATen's own kernels under ``cpu_isa: portable`` (oneDNN and NNPACK
    otherwise, torch's default)."""
    import torch

    set_conv_kernels(cpu_isa)

    torch.set_num_threads(threads)
    if torch.get_num_interop_threads() != threads:
        try:
            torch.set_num_interop_threads(threads)
        except RuntimeError:  # inter-op pool already started in this process (tests)
            pass
    cuda = str(device).startswith("cuda")
    set_deterministic(True, warn_only=cuda)
    if cuda:
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False


def set_conv_kernels(cpu_isa: str) -> None:
    """CPU convolutions on ATen's own kernels under ``cpu_isa: portable``, else on oneDNN and
    NNPACK where torch picks them (its default)."""
    import torch

    library_convs = cpu_isa not in ATEN_CONV_ISAS
    torch.backends.mkldnn.enabled = library_convs
    torch.backends.nnpack.set_flags(library_convs)


@contextlib.contextmanager
def conv_kernels(cpu_isa: str) -> Iterator[None]:
    """:func:`set_conv_kernels` inside the block and torch's previous choice after (the
    planner times a profile's networks on the kernels its jobs will use)."""
    import torch

    before = torch.backends.mkldnn.enabled, torch._C._get_nnpack_enabled()
    set_conv_kernels(cpu_isa)
    try:
        yield
    finally:
        torch.backends.mkldnn.enabled = before[0]
        torch.backends.nnpack.set_flags(before[1])


def set_deterministic(mode: bool, *, warn_only: bool = False) -> None:
    """``torch.use_deterministic_algorithms`` without its import of ``torch._inductor``.

    The public call imports the inductor config (and with it torch._dynamo: about 3 s, more
    than many of the DAG's jobs compute) only to copy the flag into
    ``torch._inductor.config.deterministic``, which matters to ``torch.compile`` alone. This
    sets the same global flag and copies it to inductor only when inductor is already
    loaded; :func:`nasrepro.training.fast.compile_module` is the path for code that compiles.
    """
    import torch

    if "torch._inductor.config" in sys.modules:
        torch.use_deterministic_algorithms(mode, warn_only=warn_only)
    else:
        torch._C._set_deterministic_algorithms(mode, warn_only=warn_only)
