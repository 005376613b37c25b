# Two commands from a fresh clone: `make up` and `make test`. Both create or refresh .venv first.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench

.PHONY: up test venv lint check provision clean bench

# A .venv whose interpreter is gone or older than 3.11 (an earlier clone, a moved Python) is
# removed before anything else, on every run: its stamp may still be newer than the requirements,
# and installing into it, or running it, would fail every time.
ifneq ($(wildcard $(VENV)),)
ifneq ($(shell $(BIN)/python -c 'import sys; print(sys.version_info >= (3, 11))' 2>/dev/null),True)
$(info removing $(VENV): its Python no longer runs or is older than 3.11)
$(shell rm -rf $(VENV))
endif
endif

$(STAMP): requirements/base.txt requirements/test.txt $(wildcard requirements/*.txt)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	@$(BIN)/python -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "$(VENV) runs Python older than 3.11: set PYTHON=<a 3.11 interpreter>" >&2; rm -rf $(VENV); exit 1; }
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
