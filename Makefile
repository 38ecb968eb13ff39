# nasrepro: `make test` and `make reproduce` do all their own set-up on a fresh machine.
PY ?= python3
CORES ?= all
PROFILE ?= default
STAMP := .cache/setup.stamp

.PHONY: setup data test reproduce tiny paper verify reference verify-run dry-run lint bench clean \
	imagenet-smoke reproduce-sequential

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

# Sequential seeds (docs/claims.md "Sequential seeds"): look 1 = PROFILE's DAG with the overlay
# config/overlays/sequential.yaml; `nasrepro sequential-plan` writes look 2's overlay (more seeds
# only for the claims that continue, the others' look-1 rows kept); look 2 runs it. The seed lists
# change the papers' config hashes, so look 2 drops params from the rerun triggers: only the new
# seeds' jobs and what reads them run again (keep every other setting as at look 1).
SEQ_DIR ?= results/$(PROFILE)/sequential
reproduce-sequential: setup data
	$(PY) -m snakemake --cores $(CORES) --configfile config/overlays/sequential.yaml \
		--config profile=$(PROFILE)
	mkdir -p $(SEQ_DIR)
	cp results/$(PROFILE)/tables/claims.csv $(SEQ_DIR)/claims_look1.csv
	$(PY) -m nasrepro.cli sequential-plan --claims $(SEQ_DIR)/claims_look1.csv \
		--config config/$(PROFILE).yaml config/overlays/sequential.yaml --out $(SEQ_DIR)/look2.yaml
	$(PY) -m snakemake --cores $(CORES) --configfile $(SEQ_DIR)/look2.yaml --config profile=$(PROFILE) \
		--rerun-triggers mtime input code software-env --forcerun claims resolved_config

tiny: setup
	$(PY) -m snakemake --cores $(CORES) --config profile=tiny

# The imagenet profile's whole DAG on a generated ImageNet-style folder at tiny settings (CPU,
# about 3 minutes on 2 cores): tests/imagenet_folder.py writes the folder and the overlay.
SMOKE_DIR ?= .cache/imagenet-smoke
imagenet-smoke: setup
	rm -rf $(SMOKE_DIR)
	$(PY) -m tests.imagenet_folder $(SMOKE_DIR)
	$(PY) -m snakemake --cores $(CORES) --quiet rules --nolock --configfile $(SMOKE_DIR)/overlay.yaml \
		--config profile=imagenet results_dir=$(CURDIR)/$(SMOKE_DIR)/results \
		paper_dir=$(CURDIR)/$(SMOKE_DIR)/paper

# Tables, figures, provenance, claims verdicts, leaderboard and REPORT.md into paper/<profile>/.
paper: setup
	$(PY) -m snakemake paper --cores $(CORES) --config profile=$(PROFILE)

# The reference check (docs/reproducibility.md "Verifying the reference"): rerun PROFILE's whole DAG into the
# scratch folder VERIFY_DIR, then compare its tables cell by cell with the committed
# paper/$(PROFILE)/ (`make verify`, exit 1 on a difference) or replace that reference with them
# (`make reference`). The tiny reference is made by exactly the tests' invocation
# (tests/conftest.py run_tiny_dag: tests/config/e2e.yaml + the toy plug-in of tests/toy_methods),
# so the tests' session DAG must equal it byte for byte; it keeps only the table CSVs.
VERIFY_DIR ?= .cache/verify/$(PROFILE)
VERIFY_DEPS := setup data
ifeq ($(PROFILE),tiny)
VERIFY_DEPS := setup
VERIFY_ENV := NASREPRO_OFFLINE=1 NASREPRO_METHODS=$(CURDIR)/tests/toy_methods
VERIFY_CONFIGFILE := --configfile $(CURDIR)/tests/config/e2e.yaml
REFERENCE_FLAGS := --csv-only
endif
VERIFY_DAG = $(VERIFY_ENV) $(PY) -m snakemake --cores $(CORES) --quiet rules --nolock \
	$(VERIFY_CONFIGFILE) --config profile=$(PROFILE) results_dir=$(CURDIR)/$(VERIFY_DIR)/results \
	paper_dir=$(CURDIR)/$(VERIFY_DIR)/paper

verify-run: $(VERIFY_DEPS)
	rm -rf $(VERIFY_DIR)
	$(VERIFY_DAG)

verify: verify-run
	$(PY) -m nasrepro.cli verify $(VERIFY_DIR)/paper/$(PROFILE) paper/$(PROFILE)

reference: verify-run
	$(PY) -m nasrepro.cli reference $(VERIFY_DIR)/paper/$(PROFILE) paper/$(PROFILE) \
	  $(REFERENCE_FLAGS) --command-line "make reference PROFILE=$(PROFILE)"

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
