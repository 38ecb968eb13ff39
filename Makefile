# nasrepro: `make test` and `make reproduce` do all their own set-up on a fresh machine.
PY ?= python3
CORES ?= all
PROFILE ?= default
STAMP := .cache/setup.stamp

.PHONY: setup data test reproduce tiny paper dry-run lint bench clean

# torch first, pinned: an unpinned torch would pull several GB of CUDA packages.
$(STAMP): pyproject.toml
	$(PY) -m pip install -q --disable-pip-version-check torch==2.13.0
	$(PY) -m pip install -q --disable-pip-version-check -e ".[dev]"
	@mkdir -p .cache && touch $(STAMP)

setup: $(STAMP)

# Fashion-MNIST from Debian (official IDX files); nasrepro falls back to a download.
data:
	@if [ ! -d /usr/share/datasets/fashion-mnist ]; then \
	  (apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist) \
	  || echo "warning: could not install dataset-fashion-mnist; nasrepro will try the download"; \
	fi

test: setup
	$(PY) -m pytest

reproduce: setup data
	$(PY) -m snakemake --cores $(CORES) --config profile=$(PROFILE)

tiny: setup
	$(PY) -m snakemake --cores $(CORES) --config profile=tiny

# Tables, figures, provenance, claims verdicts, leaderboard and REPORT.md into paper/<profile>/.
paper: setup
	$(PY) -m snakemake paper --cores $(CORES) --config profile=$(PROFILE)

dry-run: setup
	@for p in tiny default cifar10 imagenet; do \
	  $(PY) -m snakemake -n --quiet rules --config profile=$$p || exit 1; done

lint: setup
	$(PY) -m ruff check .
	$(PY) -m snakemake --lint

bench: setup
	$(PY) bench/run_all.py

clean:
	rm -rf results/tiny .snakemake
