# `make demo` runs the main job, `make test` the test suite; both set up .venv first.
# `make bench` runs the speed benchmark on the data in $(DATA).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DATA ?= ../shared/data
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: demo test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed $(wildcard plugins/*/pyproject.toml plugins/*/*.py)
	$(BIN)/pip install --quiet -e ".[test]" $(addprefix ./,$(wildcard plugins/*/))
	touch $@

demo: $(VENV)/.installed
	$(BIN)/skbert demo

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/speed.py $(DATA)

clean:
	rm -rf $(VENV)
