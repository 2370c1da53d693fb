# `make test` is the README's test command and what .ci/run calls.
PYTHON ?= python3

.PHONY: install demo test lint bench lock

# The workbench's test tooling (axe-core for the accessibility test) comes from web/'s lock file.
install:
	$(PYTHON) -m pip install -q -e '.[dev]'
	@if [ ! -d web/node_modules ] && command -v npm >/dev/null; then cd web && npm ci --no-audit --no-fund -q; fi

demo:
	$(PYTHON) -m pip install -q -e . && argus demo

# pytest exits 5 when it collected no tests: that is a failure here, not a pass.
test: install
	$(PYTHON) -m pytest -q; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$rc

lint: install
	$(PYTHON) -m ruff check .

bench: install
	$(PYTHON) -m bench

# The image's Python dependencies, exact and hashed (Dockerfile installs them with --require-hashes).
lock:
	$(PYTHON) -m piptools compile -q --generate-hashes --strip-extras --extra kafka --extra neo4j --extra opensearch \
	  -o requirements.lock pyproject.toml && sed -i '/^--find-links/d' requirements.lock
