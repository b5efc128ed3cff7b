# CampaignID — two commands on a fresh machine with Python 3.11 and make:
#   make run    set up and run the service on its embedded defaults (SQLite, SQLite queue, sandboxes)
#   make test   set up and run the whole test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?= -n 2

.PHONY: run test faults lint setup setup-test bench messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

setup: $(BIN)/python
	$(BIN)/pip install --quiet -e .

setup-test: $(BIN)/python
	$(BIN)/pip install --quiet -e ".[scale,test]"

run: setup
	$(BIN)/campaignid serve

test: setup-test
	CAMPAIGNID_DATA_DIR=$${CAMPAIGNID_DATA_DIR:-var/test} $(BIN)/pytest $(PYTEST_ARGS)

lint: setup-test
	$(BIN)/ruff check campaignid bench tests conftest.py

bench: setup-test
	for b in bench/bench_*.py; do $(BIN)/python $$b || exit 1; done

messages: setup
	cd campaignid && DJANGO_SETTINGS_MODULE=campaignid.settings ../$(BIN)/django-admin makemessages -l fr -l en \
	  --no-wrap --no-obsolete --ignore "sandbox/*" --ignore "*/tests/*" --ignore "cards/*" --ignore "verification/*"
	$(BIN)/python scripts/po_fill.py
	cd campaignid && DJANGO_SETTINGS_MODULE=campaignid.settings ../$(BIN)/django-admin compilemessages

clean:
	rm -rf $(VENV) var/test

faults: setup-test
	CAMPAIGNID_DATA_DIR=$${CAMPAIGNID_DATA_DIR:-var/test} $(BIN)/pytest $(PYTEST_ARGS) -m faults tests/faults
