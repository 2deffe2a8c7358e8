# Quick start: `make demo`, then `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Independent C2PA reader for tests/test_independent_reader.py (pinned; the test reads this line).
C2PA_TS_VERSION := 0.9.4
JS_CACHE := tests/.cache/js
C2PA_TS  := $(JS_CACHE)/.c2pa-ts-$(C2PA_TS_VERSION)

.PHONY: demo test lint bench compile system-deps clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	$(MAKE) --no-print-directory compile
	touch $(STAMP)

# Bytecode for the package: an editable install leaves none, and with PYTHONDONTWRITEBYTECODE set
# every command would compile every module it imports, each run (~0.25 s of a verify's start-up).
compile:
	$(BIN)/python -m compileall -q genai_provenance

demo: $(STAMP)
	$(BIN)/genai-provenance demo

system-deps:
	@bash tests/install-system-deps.sh

# Installed only when missing; tests themselves never use the network (only 127.0.0.1).
$(C2PA_TS): | system-deps
	@if command -v npm >/dev/null 2>&1; then \
	  mkdir -p $(JS_CACHE) && \
	  npm install --prefix $(JS_CACHE) --no-save --no-audit --no-fund --loglevel=error \
	    @trustnxt/c2pa-ts@$(C2PA_TS_VERSION) && touch $@ \
	  || echo "make: could not install @trustnxt/c2pa-ts; the independent-reader tests will be skipped" >&2; \
	else echo "make: npm not found; the independent-reader tests will be skipped" >&2; fi

test: $(STAMP) system-deps $(C2PA_TS)
	$(BIN)/pytest -n auto --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check genai_provenance tests bench fixtures
	$(BIN)/ruff format --check genai_provenance tests bench fixtures
	$(BIN)/mypy --strict genai_provenance

bench: $(STAMP) system-deps compile
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache tests/.cache bench/out
