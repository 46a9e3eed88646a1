# wearoff: one Makefile for a fresh machine. `make demo` and `make test` set everything up themselves.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
EVIDENCE ?= ../shared/evidence/arms.csv

.PHONY: demo test lint format calibrate validate bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/wearoff forecast --product onabotulinumtoxinA --area glabellar --units 20 --sex female
	$(BIN)/wearoff validate --evidence $(EVIDENCE) -o build/validation
	@echo "Validation report: http://127.0.0.1:8000/report.html  (Ctrl-C to stop)"
	$(BIN)/python -m http.server 8000 --bind 127.0.0.1 --directory build/validation

# The records tests run on SQLite and PostgreSQL: a throwaway PostgreSQL server is started (and installed with
# apt-get on a fresh machine) unless WEAROFF_TEST_POSTGRES_URL already names one.
test: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	@if [ -z "$$WEAROFF_TEST_POSTGRES_URL" ]; then \
		eval "$$(bash scripts/start-test-postgres.sh | grep '^export ')"; \
	fi; \
	$(BIN)/pytest -n 2

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

calibrate: $(STAMP)
	$(BIN)/wearoff calibrate --evidence $(EVIDENCE)

validate: $(STAMP)
	$(BIN)/wearoff validate --evidence $(EVIDENCE) -o build/validation

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) build .pytest_cache .ruff_cache
