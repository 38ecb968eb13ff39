#!/usr/bin/env bash
# Issue 15's GPU measurements as one prepared job (../shared/gpu/README.md's recipe, scripted).
#
#   bash bench/gpu_session.sh prepare      # here, where PyPI is reachable: fills .gpu/
#   bash bench/gpu_session.sh run OUTDIR   # on the GPU node (nothing installed, no network)
#
# `prepare` downloads the wheels the node lacks (Snakemake and its dependencies, for Python
# 3.12, versions pinned to this environment's), writes the synthetic CIFAR-10 generator and
# records the wheel list; the device tool carries .gpu/ (git-ignored) with `carry: [".gpu"]`.
# `run` installs the wheels into .gpu/site, puts a `nasrepro` command on PATH and runs, each
# under its own timeout, so a slow part costs only itself:
#   1. the CUDA cases of the equal-maths tests (fused DARTS cell, fast paths of the loop);
#   2. bench/gpu.py, eager fp32 and every fast path but compilation (CSV rows as they come);
#   3. nasrepro plan cifar10 from the measured step times;
#   4. bench/gpu.py --compiled-only for the networks with one static graph, then the blocks.
# Everything lands in OUTDIR (logs, CSVs, env.txt). Without CUDA, `run` does the same on the
# tiny networks on CPU: the script's own test (about 6 minutes on 2 cores).
# Without Snakemake and without prepared wheels (or when they do not install), `run` stops at
# once with exit 2, before any step: no device time spent on a run that cannot finish.
# Budget: the step limits add up to 440 s (plus the install), under 8 minutes on one H200
# (set GPU_SESSION_SCALE=0.5 to halve every timeout).
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
KIT=$ROOT/.gpu

prepare() {
  mkdir -p "$KIT/whl"
  grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo /.gpu/ >> .git/info/exclude
  # what the node lacks: Snakemake and everything it needs (its requirements, followed
  # here), less what the node has (../shared/gpu/README.md), at this environment's versions
  python3 - > "$KIT/wheels.txt" <<'PY'
import importlib.metadata as md, re
from packaging.requirements import Requirement
norm = lambda n: re.sub(r"[-_.]+", "-", n).lower()
node = {"numpy", "pandas", "scipy", "scikit-learn", "matplotlib", "tqdm", "pyyaml", "jinja2",
        "markupsafe", "pytest", "torch", "packaging", "python-dateutil", "pytz", "six",
        "pillow", "filelock", "typing-extensions", "sympy", "networkx", "fsspec", "setuptools"}
seen, todo = set(), ["snakemake", "snakemake-executor-plugin-slurm"]
while todo:
    name = todo.pop()
    if norm(name) in seen or norm(name) in node:
        continue
    try:
        dist = md.distribution(name)
    except md.PackageNotFoundError:
        continue  # a backport this Python does not need
    seen.add(norm(name))
    print(f"{dist.metadata['Name']}=={dist.version}")
    for req in map(Requirement, dist.requires or []):
        if req.marker is None or req.marker.evaluate({"python_version": "3.12",
                                                      "python_full_version": "3.12.0",
                                                      "extra": ""}):
            todo.append(req.name)
PY
  while read -r pin; do
    python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
      --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
      --platform manylinux2014_x86_64 -d "$KIT/whl" "$pin" 2>/dev/null \
      || python3 -m pip wheel -q --no-deps -w "$KIT/whl" "$pin" \
      || { echo "error: no wheel for $pin; check the network and $KIT/wheels.txt" >&2; exit 2; }
  done < "$KIT/wheels.txt"
  cat > "$KIT/make_cifar.py" <<'PY'
"""A synthetic CIFAR-10 tarball in the official python format (class templates + noise)."""
import io, pickle, sys, tarfile
import numpy as np
rng = np.random.default_rng(0)
tmpl = np.kron(rng.normal(size=(10, 3, 4, 4)), np.ones((1, 1, 8, 8)))
def batch(n, seed):
    r = np.random.default_rng(seed)
    y = r.integers(0, 10, n)
    x = np.clip(128 + 40 * tmpl[y] + 60 * r.normal(size=(n, 3, 32, 32)), 0, 255)
    return {b"batch_label": b"synthetic", b"labels": [int(v) for v in y],
            b"data": x.astype(np.uint8).reshape(n, 3072), b"filenames": [b"x"] * n}
with tarfile.open(sys.argv[1], "w") as tf:
    for i, name in enumerate([f"data_batch_{k}" for k in range(1, 6)] + ["test_batch"]):
        raw = pickle.dumps(batch(10000, i + 1), protocol=2)
        info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
        info.size = len(raw)
        tf.addfile(info, io.BytesIO(raw))
PY
  echo "prepared $KIT: $(ls "$KIT/whl" | wc -l) wheels, $(du -sh "$KIT" | cut -f1)"
}

step() {  # step NAME SECONDS COMMAND...: run under a timeout, log to OUT/NAME.log
  local name=$1 secs=$2
  shift 2
  secs=$(python3 -c "print(max(10, int($secs * ${GPU_SESSION_SCALE:-1})))")
  local t0=$SECONDS
  timeout "$secs" "$@" > "$OUT/$name.log" 2>&1
  local rc=$?
  echo "$name: rc=$rc, $((SECONDS - t0)) s (limit $secs s)" | tee -a "$OUT/steps.txt"
}

run() {
  OUT=${1:?usage: bash bench/gpu_session.sh run OUTDIR}
  mkdir -p "$OUT"
  : > "$OUT/steps.txt"
  export PYTHONPATH=$ROOT
  if ! python3 -c "import snakemake" 2>/dev/null; then
    if ! ls "$KIT"/whl/*.whl > /dev/null 2>&1; then  # nothing to install: stop before any step
      echo "error: no Snakemake here and no wheels in $KIT/whl; run 'bash bench/gpu_session.sh" \
        "prepare' where PyPI is reachable and carry .gpu (device tool: carry [\".gpu\"])" \
        | tee -a "$OUT/steps.txt" >&2
      exit 2
    fi
    python3 -m pip install -q --no-index --no-deps --target "$KIT/site" "$KIT"/whl/*.whl \
      > "$OUT/install.log" 2>&1
    echo "install: rc=$?" | tee -a "$OUT/steps.txt"
    export PYTHONPATH=$KIT/site:$ROOT
    if ! python3 -c "import snakemake" > /dev/null 2>> "$OUT/install.log"; then
      echo "error: the wheels of $KIT/whl do not give an importable Snakemake (see" \
        "$OUT/install.log); run 'bash bench/gpu_session.sh prepare' again" \
        | tee -a "$OUT/steps.txt" >&2
      exit 2
    fi
  fi
  if ! command -v nasrepro > /dev/null; then
    mkdir -p "$KIT/bin"
    printf '#!/bin/sh\nexec python3 -c "import sys; from nasrepro.cli import main; sys.exit(main())" "$@"\n' \
      > "$KIT/bin/nasrepro"
    chmod +x "$KIT/bin/nasrepro"
    export PATH=$KIT/bin:$PATH
  fi
  local dev quick="" cases="cuda"
  dev=$(python3 -c "import torch; print('cuda' if torch.cuda.is_available() else 'cpu')")
  if [ "$dev" = cpu ]; then quick="--quick"; cases="cpu and not compiled"; fi
  { date -u; git rev-parse HEAD; nvidia-smi 2>/dev/null | head -15; python3 -c \
    "import torch, sys; print(sys.version.split()[0], torch.__version__, torch.version.cuda)"
  } > "$OUT/env.txt" 2>&1
  step tests 120 python3 -m pytest -q -p no:cacheprovider tests/test_darts_fused.py \
    tests/test_fast_paths.py -k "$cases"
  step bench 180 python3 bench/gpu.py --device "$dev" $quick --budget-s 150 \
    --csv "$OUT/gpu_$dev.csv"
  if [ "$dev" = cuda ]; then  # the plan right after the eager rows: cheap, and the point
    step plan 60 nasrepro plan cifar10 --step-times "$OUT/gpu_$dev.csv"
  else
    step plan 60 nasrepro plan tiny --step-times "$OUT/gpu_$dev.csv"
  fi
  step bench_compile 100 python3 bench/gpu.py --device "$dev" $quick --compiled-only \
    --budget-s 80 --workloads darts_eval,darts_search --csv "$OUT/gpu_${dev}_compile.csv"
  step bench_blocks 80 python3 bench/gpu.py --device "$dev" $quick --compiled-only \
    --budget-s 60 --workloads spos_supernet,sandwich --csv "$OUT/gpu_${dev}_blocks.csv"
  echo "done: $OUT"
}

case "${1:-}" in
  prepare) prepare ;;
  run) shift; run "$@" ;;
  *) echo "usage: bash bench/gpu_session.sh prepare | run OUTDIR" >&2; exit 2 ;;
esac
