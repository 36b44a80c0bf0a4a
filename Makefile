# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test install bench fuzz mutate lint migrate clean lock

# requirements.lock: what runs (the image uses it); requirements-dev.lock: plus the test tools.
# Regenerate both after changing pyproject.toml: `make lock`.
$(BIN)/promo: pyproject.toml requirements-dev.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-dev.lock
	$(BIN)/pip install -q --no-deps -e .
	@touch $@

install: $(BIN)/promo

run: install  ## the whole suite on embedded defaults (Ctrl-C stops it)
	$(BIN)/promo run

test: install  ## unit + integration + end-to-end tests (MariaDB and Redis on their default ports)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install  ## throughput/latency benchmark; results in bench/results/
	$(BIN)/python -m bench

# schemathesis in its own virtualenv: it only talks HTTP to the suite, its pins stay apart
$(VENV)-fuzz/bin/st: fuzz/requirements.lock
	$(PYTHON) -m venv $(VENV)-fuzz
	$(VENV)-fuzz/bin/pip install -q --require-hashes -r fuzz/requirements.lock
	@touch $@

fuzz: install $(VENV)-fuzz/bin/st  ## schemathesis over every service's OpenAPI on MariaDB; results in fuzz/results.md
	$(BIN)/python -m fuzz --st $(VENV)-fuzz/bin/st $(FUZZ_ARGS)

# mutmut needs the suite's own packages and test tools beside it: a virtualenv of its own
$(VENV)-mutate/bin/mutmut: requirements-mutate.lock
	$(PYTHON) -m venv $(VENV)-mutate
	$(VENV)-mutate/bin/pip install -q --require-hashes -r requirements-mutate.lock
	@touch $@

mutate: $(VENV)-mutate/bin/mutmut  ## mutation testing of the pure modules; survivors in mutation/results.md
	$(VENV)-mutate/bin/mutmut run --max-children 2
	$(VENV)-mutate/bin/python -m mutation

lint: install  ## ruff, and the import contracts of pyproject.toml [tool.importlinter]
	$(BIN)/ruff check .
	$(BIN)/lint-imports

migrate: install
	$(BIN)/promo migrate

clean:
	rm -rf var .pytest_cache mutants

lock: install
	$(BIN)/pip install -q uv
	$(BIN)/uv pip compile pyproject.toml --python-version 3.11 --generate-hashes -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --generate-hashes -o requirements-dev.lock
	$(BIN)/uv pip compile fuzz/requirements.in --python-version 3.11 --generate-hashes -o fuzz/requirements.lock
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra mutate -c requirements-dev.lock --python-version 3.11 \
		--generate-hashes -o requirements-mutate.lock
