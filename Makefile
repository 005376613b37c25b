# Two commands from a fresh clone: `make up` and `make test`. Both create or refresh .venv first.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench

.PHONY: up test venv lint check provision clean bench

$(STAMP): requirements/base.txt requirements/test.txt $(wildcard requirements/*.txt)
	@# A .venv whose interpreter is gone or older than 3.11 (an earlier clone, a moved Python) is
	@# made again: installing into it would fail on every run, or half-work.
	@$(BIN)/python -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || \
		{ rm -rf $(VENV); $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV); }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements/test.txt
	@touch $(STAMP)

venv: $(STAMP)

## up: start the whole system (embedded default, or whatever the environment points at)
up: $(STAMP)
	$(BIN)/python manage_all.py up $(ARGS)

## test: run every test suite; ends with one line "N passed, N failed"
test: $(STAMP)
	$(BIN)/python manage_all.py test $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

check: $(STAMP)
	$(BIN)/python manage_all.py check
	$(BIN)/python manage_all.py makemigrations --check

provision: $(STAMP)
	$(BIN)/python manage_all.py provision

clean:
	rm -rf var

## bench: open-loop load on an isolated production-like copy with its baselines (docs/performance.md)
$(BENCH_STAMP): $(STAMP) requirements/bench.txt
	$(BIN)/python -m pip install --quiet -r requirements/bench.txt
	@touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python -m bench.run $(ARGS)
