# Two commands on a fresh machine: `make demo` and `make test`. Each creates the
# virtualenv in .venv and installs what it needs first.
# The first interpreter that runs and is 3.11 or newer (pyenv shims may exist and not run).
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && echo $$p && break; done)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev

.PHONY: demo demo-web demo-reset test lint format clean

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "regmonitor needs Python 3.11 or newer: set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

demo: $(STAMP)  ## run `monitor check` on the bundled recorded Federal Register data
	$(BIN)/monitor check --config examples/demo/monitor.yaml
	@echo "Alerts written to .demo/outbox.jsonl; run 'make demo' again to see that nothing is new."

demo-web: $(STAMP)  ## serve the demo's store in `monitor web` on 127.0.0.1:8080 (after `make demo`)
	bash scripts/demo_web.sh

demo-reset:  ## forget the demo's state so the next `make demo` starts fresh
	rm -rf .demo

test: $(STAMP)  ## lint, then the whole test suite (installs PostgreSQL and Redis for the tests)
	bash scripts/ensure-services.sh
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .demo .pytest_cache .ruff_cache dist build
