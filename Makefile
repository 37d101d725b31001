# repsight: `make demo` and `make test` each set up everything they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast screenshots lint typecheck java chromium bench bench-readers bench-metrics bench-study bench-web bench-scale load fuzz clean

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

# The whole suite: lint, types, and every test (Spark, browser and slow ones too). CI runs this.
test: $(STAMP) lint typecheck java chromium
	$(BIN)/pytest -n 2 --dist loadgroup --durations=25

# The quick loop while working: no Spark, no browser, nothing marked slow.
test-fast: $(STAMP)
	$(BIN)/pytest -n 2 --dist loadgroup -m "not slow and not spark and not browser"

# Screenshots of the dashboard and the report for docs/screenshots/ (tests never write them otherwise).
screenshots: $(STAMP) chromium
	REPSIGHT_SCREENSHOTS=1 $(BIN)/pytest -m browser tests/web/test_web_browser.py tests/outputs/test_report.py tests/digest/test_digest_browser.py

bench: $(STAMP)
	$(BIN)/python bench/bench_ingest.py

bench-metrics: $(STAMP)
	$(BIN)/python bench/bench_metrics.py

# 10,000 and 30,000 people over 18 months, 100,000 over a quarter, on DuckDB and Spark: hours (bench/README.md).
bench-scale: $(STAMP) java
	$(BIN)/python bench/bench_scale.py

bench-study: $(STAMP)
	$(BIN)/python bench/bench_study.py

bench-web: $(STAMP)
	$(BIN)/python bench/bench_web.py

FUZZ_SECONDS ?= 60

# Coverage-guided fuzzing of every reader for FUZZ_SECONDS each; new finds go to fuzz/regressions/, which `make test` replays.
# atheris is installed for this target only: the tests replay the corpus without it.
fuzz: $(STAMP)
	$(BIN)/pip install --quiet -c constraints.txt atheris
	$(BIN)/python -m fuzz.run --seconds $(FUZZ_SECONDS)

# The dashboard under 50 signed-in users of every role for 60 s, and a 1 GB mbox ingested at constant memory.
load: $(STAMP)
	$(BIN)/python bench/load.py

bench-readers: $(STAMP)
	$(BIN)/python bench/bench_mbox.py
	$(BIN)/python bench/bench_ics.py

clean:
	rm -rf $(VENV) demo bench/out .pytest_cache .mypy_cache
