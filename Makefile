# Two commands on a fresh machine: `make run` and `make test`; each creates or updates .venv.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PACKAGES := rules dialogs bot

.PHONY: run test lint typecheck unit venv catalogs bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=...)")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --upgrade pip 2>/dev/null
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(PY) -m bot run

lint: $(STAMP)
	$(PY) -m ruff check $(PACKAGES) migrations tests bench

typecheck: $(STAMP)
	$(PY) -m mypy

unit: $(STAMP)
	$(PY) -m pytest

test: lint typecheck unit

# Re-extract the sentences from the code and the data, and merge them into both catalogs.
catalogs: $(STAMP)
	$(PY) -m babel.messages.frontend extract -F babel.cfg --no-default-keywords -k N_ -k Message:1 -o locales/messages.pot --no-location --sort-output .
	$(PY) -m babel.messages.frontend update -i locales/messages.pot -d locales --no-fuzzy-matching --ignore-obsolete
	$(PY) -m babel.messages.frontend compile -d locales --statistics

bench: $(STAMP)
	$(PY) -m bench

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
