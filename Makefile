# fleetui: `make demo` runs the product on embedded defaults; `make test` runs the tests.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_PORT ?= 8000
INSTALLER ?= auto

.PHONY: install demo test test-fast lint format bench bench-import bench-clusters bench-pages bench-reruns bench-page-load bench-demo vendor-plotly clean

install: $(STAMP)

# INSTALLER=auto uses uv (on PATH, or installed into the venv with pip) and falls back to pip; or uv, pip.
$(STAMP): requirements.lock pyproject.toml
	@python=$$(sh scripts/find-python) || exit 1; \
	if [ ! -x $(PY) ]; then echo "Creating $(VENV) with $$python"; "$$python" -m venv $(VENV) || exit 1; fi
	@sh scripts/install-requirements $(PY) $(INSTALLER) requirements.lock
	@touch $(STAMP)

demo: install
	FLEETUI_DEMO=1 $(PY) manage.py rundemo --port $(DEMO_PORT)

test: install
	FLEETUI_TESTING=1 $(PY) -m pytest $(PYTEST_ARGS)

test-fast: install
	FLEETUI_TESTING=1 $(PY) -m pytest -m "not slow and not browser" $(PYTEST_ARGS)

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	FLEETUI_TESTING=1 $(PY) manage.py makemigrations --check --dry-run

format: install
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

bench-import: install
	DEBUG=1 $(PY) manage.py bench_import

# The labelled data sets live outside the repository: BENCH_DATA=/path/to/data make bench-clusters
bench-clusters: install
	$(PY) bench/extraction_quality.py $(if $(BENCH_DATA),--data $(BENCH_DATA))
	$(PY) bench/cluster_quality.py $(if $(BENCH_DATA),--data $(BENCH_DATA))
	$(PY) bench/masking_quality.py $(if $(BENCH_DATA),--data $(BENCH_DATA))
	$(PY) bench/cluster_speed.py $(if $(BENCH_DATA),--data $(BENCH_DATA))

bench-pages: install
	DEBUG=1 $(PY) manage.py bench_pages

bench-reruns: install
	DEBUG=1 $(PY) manage.py bench_reruns

# Fresh-browser page loads on a demo data folder: BENCH_DEMO_DATA=/tmp/demo (prepared by rundemo --prepare-only)
bench-page-load: install
	$(PY) bench/page_load.py --data $(or $(BENCH_DEMO_DATA),data) $(if $(BASELINE),--baseline-checkout $(BASELINE))
bench-github: install ; DEBUG=1 $(PY) manage.py bench_github $(if $(PRS),--prs $(PRS)) $(if $(PER_REPO),--per-repo $(PER_REPO))

# From a fresh clone of this checkout: install time (pip, uv), then seconds to the demo's first page, twice.
bench-demo: install
	$(PY) bench/demo_startup.py $(BENCH_DEMO_ARGS)

# Re-fetches the pinned plotly.js bundle in static/vendor/plotly/ from the npm registry.
vendor-plotly:
	sh scripts/fetch-plotly

# Set DATABASE_URL (PostgreSQL) and REDIS_URL to measure the production set-up.
bench: bench-import bench-clusters bench-pages bench-reruns

clean:
	rm -rf data/ artifacts/ .pytest_cache
