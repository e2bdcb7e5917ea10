# riskkit: two commands do everything on a fresh machine (python3 + make).
#   make demo   set up .venv, build the sample book if absent, run the month-end job -> reports/
#   make test   set up .venv with dev extras, run ruff, mypy, the docs build and every test (CI)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
AS_OF  ?= 2026-10-31
STAMP  := $(VENV)/.installed

.PHONY: demo test test-fast lint typecheck docs format bench bench-quick clean app

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[dev,app,docs,dask]"
	$(BIN)/python -m ipykernel install --sys-prefix --name riskkit --display-name "riskkit (.venv)" >/dev/null
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/riskkit demo --as-of $(AS_OF)

test: lint typecheck
	$(BIN)/python -m pytest -q
	$(MAKE) --no-print-directory docs

# the edit-test loop: unit tests on SQLite, two workers (no report notebooks, demo, browser or
# PostgreSQL; `make test` runs those too)
test-fast: lint
	$(BIN)/python -m pytest -q -n 2 -m "not slow and not browser and not postgres"

typecheck: $(STAMP)
	$(BIN)/mypy

# the documentation site -> site/ (warnings are errors; executes the report notebooks)
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 DISABLE_MKDOCS_2_WARNING=true $(BIN)/mkdocs build --strict --quiet
	@echo "docs: $(CURDIR)/site/index.html"

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks tools
	$(BIN)/ruff format --check src tests benchmarks tools

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks tools
	$(BIN)/ruff check --fix src tests benchmarks tools

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run_all

bench-quick: $(STAMP)
	$(BIN)/python -m benchmarks.run_all --quick

app: $(STAMP)
	$(BIN)/riskkit app

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache site
