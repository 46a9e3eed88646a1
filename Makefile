# wearoff: one Makefile for a fresh machine. `make demo` and `make test` set everything up themselves.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
EVIDENCE ?= ../shared/evidence/arms.csv

.PHONY: demo test lint format calibrate validate bench bench-forecast bench-records bench-web bench-survival bench-scale clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Seeds a demo clinic (simulated patients, a few users) into build/demo.db, prints the logins and serves it.
demo: $(STAMP)
	$(BIN)/wearoff serve --demo --host 127.0.0.1 --port 8000

# The records and web tests run on SQLite and PostgreSQL: a throwaway PostgreSQL server is started (and installed
# with apt-get on a fresh machine) unless WEAROFF_TEST_POSTGRES_URL already names one. The browser tests need
# Debian's Chromium: installed with apt-get if missing. Everything is provided, so a test that would skip fails.
test: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	bash scripts/ensure-chromium.sh
	@if [ -z "$$WEAROFF_TEST_POSTGRES_URL" ]; then \
		out="$$(bash scripts/start-test-postgres.sh)" \
			|| { echo "make test: PostgreSQL could not be started (see above)" >&2; exit 1; }; \
		eval "$$(printf '%s\n' "$$out" | grep '^export ')"; \
	fi; \
	WEAROFF_STRICT_TESTS=1 $(BIN)/pytest -n 2

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

# Benchmarks: each prints its ratios against a reference measured in the same run (see README, Benchmarks).
BENCH_STAMP := $(VENV)/.installed-bench
$(BENCH_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

bench: bench-forecast bench-records bench-web bench-survival bench-scale

bench-forecast: $(STAMP)
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/personal_forecasts.py
	$(BIN)/python benchmarks/personal_intervals.py
	$(BIN)/python benchmarks/personal_quadrature.py

bench-records: $(STAMP)
	$(BIN)/python benchmarks/records_scale.py

bench-web: $(STAMP)
	$(BIN)/python benchmarks/web_load.py

bench-survival: $(BENCH_STAMP)
	$(BIN)/python benchmarks/survival/run.py

bench-scale: $(STAMP)
	$(BIN)/python benchmarks/scale/run.py

clean:
	rm -rf $(VENV) build .pytest_cache .ruff_cache
