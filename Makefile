# Two commands on a fresh machine: `make run` and `make test`; each creates or updates .venv from
# requirements.lock (exact versions and hashes). `make check` is the quicker loop while editing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
LOCK := requirements.lock
LOCKED := $(VENV)/.locked
STAMP := $(VENV)/.installed
PACKAGES := rules dialogs bot
# `make lock` keeps every pin it can; `make lock UPGRADE=babel` moves one package (and what it
# needs), `make lock UPGRADE=all` moves everything to the newest releases pyproject.toml allows.
UPGRADE ?=
UPGRADE_FLAGS := $(if $(filter all,$(UPGRADE)),--upgrade,$(addprefix --upgrade-package ,$(UPGRADE)))

.PHONY: run test check lint typecheck unit fast venv lock catalogs bench clean

# Every dependency, build backend and lock tool included, checked against the lock's hashes.
$(LOCKED): $(LOCK)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=...)")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes -r $(LOCK)
	@touch $@

# The project itself, editable. Nothing is downloaded here (--no-index, and the build backend comes
# from the lock): pip only checks that the lock holds what pyproject.toml asks for.
$(STAMP): $(LOCKED) pyproject.toml
	@$(PY) -m pip install --quiet --no-index --no-build-isolation -e '.[dev,rasa]' \
		|| { echo "pyproject.toml asks for something $(LOCK) lacks: run 'make lock'" >&2; exit 1; }
	@touch $@

venv: $(STAMP)

run: $(STAMP)
	$(PY) -m bot run

lint: $(STAMP)
	$(PY) -m ruff check $(PACKAGES) migrations tests bench

typecheck: $(STAMP)
	$(PY) -m mypy

# The whole suite (what .ci/run calls).
unit: $(STAMP)
	$(PY) -m pytest

# Without the tests marked `slow`: the bot started as processes, the wheel built and installed.
fast: $(STAMP)
	$(PY) -m pytest -m 'not slow'

test: lint typecheck unit

check: lint typecheck fast

# Re-resolve requirements.lock from pyproject.toml (extras rasa and dev, groups build and lock),
# for Python 3.11 and newer on every platform, with the hashes of every file.
lock: $(LOCKED)
	$(VENV)/bin/uv pip compile pyproject.toml --extra rasa --extra dev --group build --group lock \
		--universal --python-version 3.11 --generate-hashes --custom-compile-command 'make lock' \
		--quiet --output-file $(LOCK) $(UPGRADE_FLAGS)

# Re-extract the sentences from the code and the data, and merge them into both catalogs.
catalogs: $(STAMP)
	$(PY) -m babel.messages.frontend extract -F babel.cfg --no-default-keywords -k N_ -k Message:1 -k t -o locales/messages.pot --no-location --sort-output .
	$(PY) -m babel.messages.frontend update -i locales/messages.pot -d locales --no-fuzzy-matching --ignore-obsolete
	$(PY) -m babel.messages.frontend compile -d locales --statistics

# Every benchmark; the broadcast one takes about three minutes (`python -m bench broadcast --database-url URL` for PostgreSQL).
bench: $(STAMP)
	$(PY) -m bench

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache dist
