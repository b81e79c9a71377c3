# Two commands do everything: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_WORKERS ?= 2

# Third-party web assets (DESIGN.md §8): npm packages pinned in web/package-lock.json, copied
# into the package (git-ignored, shipped in the wheel). No install scripts run.
NODE_STAMP := web/node_modules/.package-lock.json
SWAGGER_DIST := web/node_modules/swagger-ui-dist
SWAGGER_DIR := src/smsgate/adapters/http_api/static/swagger
SWAGGER_FILES := swagger-ui-bundle.js swagger-ui-bundle.js.LICENSE.txt swagger-ui.css \
	favicon-32x32.png LICENSE NOTICE

.PHONY: setup assets run test lint typecheck unit fuzz bench clean

setup: $(STAMP) assets

assets: $(SWAGGER_DIR)/swagger-ui-bundle.js

$(NODE_STAMP): web/package.json web/package-lock.json
	cd web && npm ci --ignore-scripts --no-audit --no-fund
	touch $@

$(SWAGGER_DIR)/swagger-ui-bundle.js: $(NODE_STAMP)
	mkdir -p $(SWAGGER_DIR)
	cp $(addprefix $(SWAGGER_DIST)/,$(SWAGGER_FILES)) $(SWAGGER_DIR)/

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: setup
	$(BIN)/smsgate demo --data-dir .smsgate-demo --http-port 8080 --smpp-port 2775 --fallback-ports

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: setup
	$(BIN)/mypy

test: setup lint typecheck
	# pytest exits 5 when it collected no test: that fails the build like any other error.
	# Two workers, a test file each at a time (the long e2e files run beside the rest);
	# the figures the tests record are printed at the end ("figures").
	$(BIN)/python -m pytest -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile --cov=smsgate --cov-report=term:skip-covered --cov-report=json:.coverage.json $(PYTEST_ARGS)
	$(BIN)/python tests/check_coverage.py .coverage.json

unit: setup
	$(BIN)/python -m pytest tests/unit $(PYTEST_ARGS)

fuzz: setup
	SMSGATE_FUZZ_EXAMPLES=1000000 $(BIN)/python -m pytest -m slow tests -k fuzz $(PYTEST_ARGS)

bench: setup
	$(BIN)/python bench/codec.py

clean:
	rm -rf $(VENV) .smsgate-demo .coverage .coverage.* web/node_modules $(SWAGGER_DIR)
