"""No thread or parallelism dependence (issue 17): a job's threads follow the config's
``threads`` alone (torch intra/inter-op pools and the OpenMP/BLAS environment, whatever the
caller exported), its CPU kernels follow the config's ``cpu_isa`` alone (ATen, oneDNN and MKL
capped at AVX2; ``portable`` also MKL's COMPATIBLE branch, ATen's convolutions, OpenBLAS
Haswell), deterministic algorithms are on, and Snakemake's ``--cores`` (how many jobs
run side by side) does not change any result file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from nasrepro.config import load_config
from nasrepro.determinism import CPU_ISA_ENV
from nasrepro.errors import ConfigError
from nasrepro.io import read_json, write_yaml
from tests.conftest import REPO, run_cli


@pytest.fixture(scope="module")
def job_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny profile with ``threads: 2`` and a one-epoch SPOS retrain, and its data splits."""
    root = tmp_path_factory.mktemp("threads")
    config = load_config("tiny", {"results_dir": str(root / "results"), "threads": 2,
                                  "progress": False})
    config["spos"]["retrain"]["epochs"] = 1
    path = root / "config.resolved.yaml"
    write_yaml(path, config)
    proc = run_cli("data", "--config-file", str(path))
    assert proc.returncode == 0, proc.stderr
    return path


#: a caller's instruction-set caps that differ from the tiny profile's ``cpu_isa: portable``
#: (scalar ATen kernels, SSE4.1 oneDNN kernels, MKL's automatic path, OpenBLAS's SSE3 kernels):
#: the job must override them
OTHER_ISA_ENV = {"ATEN_CPU_CAPABILITY": "default", "ONEDNN_MAX_CPU_ISA": "SSE41",
                 "MKL_CBWR": "AUTO", "OPENBLAS_CORETYPE": "Prescott"}
TINY_ISA = load_config("tiny")["cpu_isa"]


def test_outside_thread_settings_do_not_change_a_job(job_config: Path) -> None:
    """The same retrain job (convs, BN, linear; forward and backward) started with different
    OMP/MKL/OpenBLAS thread variables and instruction-set caps writes identical files: the
    config's ``threads`` and ``cpu_isa`` win."""
    outs = []
    for i, n in enumerate(("1", "3")):
        out = job_config.parent / f"retrain{i}"
        env = {"OMP_NUM_THREADS": n, "MKL_NUM_THREADS": n, "OPENBLAS_NUM_THREADS": n,
               **(OTHER_ISA_ENV if i else {})}
        proc = run_cli("retrain", "--config-file", str(job_config), "--paper", "spos",
                       "--cell", "fixed/all_choice_3", "--seed", "0", "--out", str(out), env=env)
        assert proc.returncode == 0, proc.stderr[-2000:]
        device = read_json(out / "provenance.json")["device"]
        assert device["torch_threads"] == device["torch_interop_threads"] == 2
        assert device["thread_env"] == dict.fromkeys(
            ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"), "2")
        assert device["deterministic_algorithms"] is True
        assert TINY_ISA == "portable"
        assert device["isa_env"] == CPU_ISA_ENV["portable"]
        assert device["onednn_convs"] is False  # ATen's own convolution kernels
        assert device["cpu_capability"] == "AVX2"
        outs.append(out)
    for name in ("metrics.json", "log.csv", "arch.json"):
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name


def test_pin_torch_sets_both_pools_and_determinism() -> None:
    from nasrepro.determinism import pin_torch

    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    try:
        pin_torch(1)
        assert torch.get_num_threads() == 1
        assert torch.are_deterministic_algorithms_enabled()
        assert torch.backends.mkldnn.enabled and torch._C._get_nnpack_enabled()
        pin_torch(1, "cpu", "portable")  # convolutions on ATen's own kernels
        assert not torch.backends.mkldnn.enabled and not torch._C._get_nnpack_enabled()
        pin_torch(1, "cpu", "avx2")
        assert torch.backends.mkldnn.enabled and torch._C._get_nnpack_enabled()
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(deterministic)
        torch.backends.mkldnn.enabled = True
        torch.backends.nnpack.set_flags(True)


def test_cpu_isa_pins_or_leaves_the_kernel_variables(monkeypatch: pytest.MonkeyPatch,
                                                     tmp_path: Path) -> None:
    from nasrepro.determinism import job_env_settings, pin_cpu_isa

    for var, value in OTHER_ISA_ENV.items():
        monkeypatch.setenv(var, value)
    pin_cpu_isa("native")  # the caller's variables stay
    assert {v: os.environ[v] for v in OTHER_ISA_ENV} == OTHER_ISA_ENV
    pin_cpu_isa("portable")
    assert {v: os.environ[v] for v in OTHER_ISA_ENV} == CPU_ISA_ENV["portable"]
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Prescott")
    pin_cpu_isa("avx2")  # caps ATen, oneDNN and MKL; leaves OpenBLAS's choice
    assert {v: os.environ[v] for v in OTHER_ISA_ENV} == {**CPU_ISA_ENV["avx2"],
                                                         "OPENBLAS_CORETYPE": "Prescott"}
    with pytest.raises(ConfigError, match="unknown cpu_isa 'avx9'"):
        pin_cpu_isa("avx9")
    cfg = tmp_path / "c.yaml"
    cfg.write_text("threads: 2\n")
    assert job_env_settings(["--config-file", str(cfg)]) == {"threads": 2, "cpu_isa": "avx2"}
    assert job_env_settings(["--config-file", str(cfg), "--config-override",
                             '{"cpu_isa": "native"}'])["cpu_isa"] == "native"
    assert job_env_settings(["--profile", "default"])["cpu_isa"] == "avx2"


def test_an_unknown_cpu_isa_is_a_config_error(tmp_path: Path) -> None:
    proc = run_cli("retrain", "--profile", "tiny", "--config-override", '{"cpu_isa": "avx9"}',
                   "--paper", "spos", "--cell", "fixed/all_choice_3", "--seed", "0",
                   "--out", str(tmp_path / "r"))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "cpu_isa" in lines[0] and "avx9" in lines[0], proc.stderr


def test_threads_are_read_before_torch_from_the_command_line(tmp_path: Path) -> None:
    from nasrepro.determinism import threads_from_argv

    cfg = tmp_path / "c.yaml"
    cfg.write_text("threads: 3\n")
    assert threads_from_argv(["retrain", "--config-file", str(cfg), "--seed", "0"]) == 3
    assert threads_from_argv([f"--config-file={cfg}"]) == 3
    assert threads_from_argv(["retrain", "--profile", "tiny"]) == load_config("tiny")["threads"]
    assert threads_from_argv(["--config-file", str(tmp_path / "missing.yaml")]) is None


#: a few cheap jobs of the tiny DAG: the splits, an SPOS supernet (training), a search on it
#: (BN recalibration + evaluation) and the AttentiveNAS prior (numpy)
CORES_TARGETS = ("spos/search/block/uniform/toy-search/seed0/provenance.json",
                 "attentivenas/study/prior/prior.json")


def test_cores_1_gives_the_files_of_the_parallel_session_dag(tiny_dag: tuple[Path, Path],
                                                             tmp_path: Path) -> None:
    """A few jobs rerun one at a time (``--cores 1``) write the very files the session's DAG
    wrote with ``--cores 2`` (jobs side by side)."""
    reference, _ = tiny_dag
    results = tmp_path / "results"
    targets = [str(results / "tiny" / t) for t in CORES_TARGETS]
    env = dict(os.environ, NASREPRO_OFFLINE="1",
               NASREPRO_METHODS=str(REPO / "tests" / "toy_methods"))
    cmd = [sys.executable, "-m", "snakemake", *targets, "--cores", "1", "--quiet", "rules",
           "--nolock", "--configfile", str(REPO / "tests" / "config" / "e2e.yaml"),
           "--config", "profile=tiny", f"results_dir={results}", f"paper_dir={tmp_path / 'p'}"]
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    skip = {"provenance.json", "config.resolved.yaml"}  # wall times, paths
    compared = 0
    for path in sorted((results / "tiny").rglob("*")):
        rel = path.relative_to(results / "tiny")
        if not path.is_file() or path.name in skip or rel.parts[0] in ("logs", "benchmarks"):
            continue
        other = reference / rel
        if path.suffix == ".pt":  # torch.save names its zip records after the temp file
            a = torch.load(path, map_location="cpu", weights_only=False)["state_dict"]
            b = torch.load(other, map_location="cpu", weights_only=False)["state_dict"]
            assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), rel
        else:
            assert path.read_bytes() == other.read_bytes(), rel
        compared += 1
    assert compared >= 6


#: a dense conv, a depthwise conv and a linear layer, forward and backward, after the job's
#: pinning of ``cpu_isa`` (argv[1]); run with oneDNN's and MKL's verbose logs on
_KERNELS_SCRIPT = """
import sys
from nasrepro.determinism import pin_cpu_isa, pin_thread_env, pin_torch
pin_thread_env(1)
pin_cpu_isa(sys.argv[1])
import torch
from torch import nn
pin_torch(1, "cpu", sys.argv[1])
net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.Conv2d(8, 8, 3, padding=1, groups=8),
                    nn.Flatten(), nn.Linear(8 * 8 * 8, 10))
net(torch.randn(16, 3, 8, 8)).sum().backward()
"""


@pytest.mark.parametrize("isa", ["portable", "avx2"])
def test_portable_keeps_onednn_out_and_mkl_on_its_compatible_branch(isa: str) -> None:
    """The libraries' own logs say which kernels ran: under ``portable`` oneDNN executes no
    primitive and every MKL call runs on the COMPATIBLE branch (the same code on Intel and AMD);
    under ``avx2`` oneDNN runs the convolutions."""
    env = dict(os.environ, ONEDNN_VERBOSE="1", MKL_VERBOSE="1")
    proc = subprocess.run([sys.executable, "-c", _KERNELS_SCRIPT, isa], capture_output=True,
                          text=True, env=env, cwd=REPO, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.splitlines()
    onednn = [ln for ln in lines if ln.startswith("onednn_verbose") and ",exec," in ln]
    mkl = [ln for ln in lines if ln.startswith("MKL_VERBOSE") and "CNR:" in ln]
    assert mkl, proc.stdout[-2000:]  # the linear layer (and, without oneDNN, the convs) in MKL
    if isa == "portable":
        assert all("CNR:COMPATIBLE" in ln for ln in mkl), mkl[:3]
        assert not onednn, onednn[:3]
    else:  # MKL's branch under avx2 is the vendor's business (docs/reproducibility.md)
        assert any("convolution" in ln for ln in onednn), onednn[:3]
