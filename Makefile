# repsight: `make demo` and `make test` each set up everything they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck java chromium bench bench-readers bench-metrics bench-study bench-web clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev,spark]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/repsight demo --out demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

java:
	@sh scripts/ensure-java.sh

chromium:
	@sh scripts/ensure-chromium.sh

test: $(STAMP) lint typecheck java chromium
	$(BIN)/pytest -n 2 --dist loadgroup

bench: $(STAMP)
	$(BIN)/python bench/bench_ingest.py

bench-metrics: $(STAMP)
	$(BIN)/python bench/bench_metrics.py

bench-study: $(STAMP)
	$(BIN)/python bench/bench_study.py

bench-web: $(STAMP)
	$(BIN)/python bench/bench_web.py

bench-readers: $(STAMP)
	$(BIN)/python bench/bench_mbox.py
	$(BIN)/python bench/bench_ics.py

clean:
	rm -rf $(VENV) demo bench/out .pytest_cache .mypy_cache
