# Two commands do all the set-up on a fresh machine:
#   make app    create .venv if missing, then serve the dashboard with Voilà on 127.0.0.1:8866
#   make test   create .venv if missing, install Chromium and the PsychRNN 1.0.0 reference
#               environment if missing, then run every test
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# PsychRNN 1.0.0 in its own environment, for the cross-check tests (see benchmarks/psychrnn_env.py).
PSYCHRNN_STAMP := benchmarks/.envs/psychrnn/.psychrnn-ready

.PHONY: app test test-fast venv browser psychrnn-env clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
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

test: $(STAMP) $(PSYCHRNN_STAMP) browser
	$(BIN)/python -m pytest

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not browser and not slow and not psychrnn"

clean:
	rm -rf $(VENV) benchmarks/.envs build dist *.egg-info
