# Two entry points for a fresh Debian machine with Python 3.11: `make demo` and `make test`.
# Both create .venv and install what they need; `make test` also installs the system
# packages the integration tests start (run as root, or with sudo available).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export GX_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1

.PHONY: demo test lint docs format bench clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

$(VENV)/.system: .ci/system-packages.sh .ci/postgres.sh
	bash .ci/system-packages.sh
	touch $@

demo: $(VENV)/.installed
	$(BIN)/govern demo

test: $(VENV)/.installed $(VENV)/.system
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mkdocs build --strict --quiet
	url=$$(bash .ci/postgres.sh) && status=0 && \
	  GOVERN_TEST_POSTGRES_URL=$$url $(BIN)/pytest || status=$$?; \
	  bash .ci/postgres.sh stop; exit $$status

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

docs: $(VENV)/.installed
	$(BIN)/mkdocs build --strict

format: $(VENV)/.installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(VENV)/.installed
	$(BIN)/python bench/demo.py
	$(BIN)/python bench/contracts.py
	$(BIN)/python bench/intake.py
	$(BIN)/python bench/stress.py
	$(BIN)/python bench/comparison.py --candidate
	$(BIN)/python bench/latency.py
	$(BIN)/python bench/decisions.py
	$(BIN)/python bench/loader.py
	$(BIN)/python bench/law.py
	$(BIN)/python bench/regret.py
	$(BIN)/python bench/verdicts.py

clean:
	rm -rf $(VENV) .govern .pytest_cache
