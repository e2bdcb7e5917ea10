# riskkit: two commands do everything on a fresh machine (python3 + make).
#   make demo   set up .venv, build the sample book if absent, run the month-end job -> reports/
#   make test   set up .venv with dev extras, run ruff, mypy, the docs build and every test (CI)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
AS_OF  ?= 2026-10-31
STAMP  := $(VENV)/.installed

.PHONY: demo test test-fast lint typecheck format bench bench-quick clean app

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[dev,app]"
	$(BIN)/python -m ipykernel install --sys-prefix --name riskkit --display-name "riskkit (.venv)" >/dev/null
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/riskkit demo --as-of $(AS_OF)

test: lint typecheck
	$(BIN)/python -m pytest -q

# the edit-test loop: unit tests only (no notebook runs, demo or browser; see README)
test-fast: lint
	$(BIN)/python -m pytest -q -m "not slow and not browser"

typecheck: $(STAMP)
	$(BIN)/mypy

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run_all

bench-quick: $(STAMP)
	$(BIN)/python -m benchmarks.run_all --quick

app: $(STAMP)
	$(BIN)/riskkit app

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
