# Two commands for a fresh machine:  make run  (app with demo data)  ·  make test  (all tests)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export FF_INSTANCE_DIR ?= $(CURDIR)/instance

.PHONY: run test bench install system-deps postgres-start postgres-stop demo-db clean

# Debian packages the app needs at run time (WeasyPrint: Pango, fonts) and for tests (Chromium,
# pdftotext). Installed only when missing; these machines run as root.
RUNTIME_DEBS := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core nodejs npm
TEST_DEBS    := chromium poppler-utils

define ensure_debs
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then \
	  missing=$$(echo "$$missing" | sed 's/ nodejs//; s/ npm//'); fi; \
	if [ -n "$$(echo $$missing)" ]; then echo "Installiere Debian-Pakete:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; fi
endef

node_modules/.installed: package.json package-lock.json
	$(call ensure_debs,$(RUNTIME_DEBS))
	SCARF_ANALYTICS=false npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) fehlt"; exit 1; }
	@$(PYTHON) -m venv --help >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq python3-venv; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP) node_modules/.installed

# The demo runs with the simulation clock so time can be moved (flask --app webapp clock set …).
DEMO_ENV := FF_ENV=demo FF_CLOCK=simulation FLASK_APP=webapp

demo-db: $(STAMP) node_modules/.installed
	mkdir -p $(FF_INSTANCE_DIR)
	$(DEMO_ENV) $(BIN)/flask db upgrade
	$(DEMO_ENV) $(BIN)/flask demo load

run: demo-db
	$(DEMO_ENV) scripts/run.sh

postgres-start:
	@scripts/postgres.sh start

postgres-stop:
	@scripts/postgres.sh stop

test: $(STAMP) node_modules/.installed
	$(call ensure_debs,$(TEST_DEBS))
	$(BIN)/ruff check workflows webapp tests bench
	url=$$(scripts/postgres.sh start) && TEST_POSTGRES_URL=$$url REQUIRE_POSTGRES=1 $(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	url=$$(PG_DATABASE=fruehfoerderung_bench scripts/postgres.sh start) && BENCH_POSTGRES_URL=$$url $(BIN)/python bench/engine.py
	url=$$(PG_DATABASE=fruehfoerderung_bench scripts/postgres.sh start) && BENCH_POSTGRES_URL=$$url $(BIN)/python bench/board.py

clean:
	rm -rf $(VENV) instance var .pytest_cache .hypothesis
