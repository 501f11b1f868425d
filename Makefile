# Two commands from a fresh clone:
#   make run    create .venv, install, run the default workflow end to end, write results/report.html
#   make test   the test suite (creates .venv if needed)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
CORES  ?= all
SMK    := $(BIN)/snakemake
STAMP  := $(VENV)/.installed

.PHONY: run test venv dry-run lint report clean-results

venv: $(STAMP)

# torch is installed first, pinned, so that nothing pulls a multi-GB CUDA build on a CPU machine.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[test]'
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

lint: $(STAMP)
	$(SMK) --lint

clean-results:
	rm -rf results/* .snakemake
