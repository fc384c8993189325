# Two commands do all the set-up on a fresh machine:
#   make app    create .venv if missing, then serve the dashboard with Voilà on 127.0.0.1:8866
#   make test   create .venv if missing, install Chromium, the PsychRNN 1.0.0 reference
#               environment and the NeuroGym environment if missing, then run every test
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# PsychRNN 1.0.0 in its own environment, for the cross-check tests (see benchmarks/psychrnn_env.py).
PSYCHRNN_STAMP := benchmarks/.envs/psychrnn/.psychrnn-ready

# NeuroGym 2.2.0 with the NumPy 2.1 it pins, in its own environment, for the adapter tests.
# The package is not installed there: the tests import it from this checkout. (NeuroGym 2.3
# also imports PyTorch, several GB on Linux; 2.2.0 does not.)
NEUROGYM_ENV := .envs/neurogym
NEUROGYM_STAMP := $(NEUROGYM_ENV)/.neurogym-ready

.PHONY: app test test-fast venv browser psychrnn-env neurogym-env clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# setuptools 77 reads the SPDX `license` string; the packaging test builds without isolation.
	$(BIN)/python -m pip install --quiet --upgrade pip "setuptools>=77"
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

app: $(STAMP)
	$(BIN)/psychrnn-widgets

browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

$(PSYCHRNN_STAMP): | $(STAMP)
	$(BIN)/python benchmarks/psychrnn_env.py

psychrnn-env: $(PSYCHRNN_STAMP)

$(NEUROGYM_STAMP):
	$(PYTHON) -m venv $(NEUROGYM_ENV)
	$(NEUROGYM_ENV)/bin/python -m pip install --quiet --upgrade pip
	$(NEUROGYM_ENV)/bin/python -m pip install --quiet "neurogym==2.2.0" "pytest>=8" "hypothesis>=6.100"
	touch $(NEUROGYM_STAMP)

neurogym-env: $(NEUROGYM_STAMP)

test: $(STAMP) $(PSYCHRNN_STAMP) $(NEUROGYM_STAMP) browser
	$(BIN)/python -m pytest
	PYTHONPATH=$(CURDIR) $(NEUROGYM_ENV)/bin/python -m pytest -p no:cacheprovider tests/tasks/test_neurogym_adapter.py

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not browser and not slow and not psychrnn"

clean:
	rm -rf $(VENV) benchmarks/.envs .envs build dist *.egg-info
