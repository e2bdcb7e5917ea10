# riskkit: two commands do everything on a fresh machine (python3 + make).
#   make demo   set up .venv, build the sample book if absent, run the month-end job -> reports/
#   make test   set up .venv with dev extras, run ruff and pytest
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
AS_OF  ?= 2026-10-31
STAMP  := $(VENV)/.installed

.PHONY: demo test lint format bench bench-quick clean app

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[dev,app]"
	$(BIN)/python -m ipykernel install --sys-prefix --name riskkit --display-name "riskkit (.venv)" >/dev/null
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/riskkit demo --as-of $(AS_OF)

test: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

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
	rm -rf $(VENV) .pytest_cache .ruff_cache
