# `make demo` runs the main job, `make test` the fast test suite, `make test-all`
# every tier (what CI runs); all set up .venv first.
# `make bench` runs the speed benchmark on the data in $(DATA); with PEERS_PYTHON set
# (the python of the peers' own environment, see $(PEERS)/peers.py) it measures the
# peers in the same run. BENCH_ARGS adds options, e.g. BENCH_ARGS="--quick";
# then benchmarks/few_shot.py (few labels: skbert against TF-IDF and SetFit),
# with FEW_SHOT_ARGS (default: 8 labels per class only).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DATA ?= ../shared/data
PEERS ?= ../shared/bench
PEERS_PYTHON ?=
BENCH_ARGS ?=
FEW_SHOT_ARGS ?= --k 8
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: demo test test-all bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[plots]"
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed $(wildcard plugins/*/pyproject.toml plugins/*/*.py)
	$(BIN)/pip install --quiet -e ".[test]" $(addprefix ./,$(wildcard plugins/*/))
	touch $@

demo: $(VENV)/.installed
	$(BIN)/skbert demo

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -m "not slow"

test-all: $(VENV)/.installed-test
	HYPOTHESIS_PROFILE=large $(BIN)/python -m pytest

bench: $(VENV)/.installed
	PEERS_PYTHON="$(PEERS_PYTHON)" $(BIN)/python benchmarks/speed.py $(DATA) \
		--peers-dir $(PEERS) $(BENCH_ARGS)
	PEERS_PYTHON="$(PEERS_PYTHON)" $(BIN)/python benchmarks/few_shot.py $(DATA) \
		--peers-dir $(PEERS) $(FEW_SHOT_ARGS)

clean:
	rm -rf $(VENV) .test-home
