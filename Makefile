# Entry points of README "Quick start": each one sets up .venv/ first (tools/setup_env.sh skips what is done).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# e.g. make demo DEMO_ARGS=--resume (python tools/run_demo.py --help lists them)
DEMO_ARGS ?=

.PHONY: install test demo

install:
	PYTHON=$(PYTHON) VENV=$(VENV) bash tools/setup_env.sh

test: install
	$(PY) -m pytest -n 2 --durations=25 tests

demo: install
	$(PY) tools/run_demo.py $(DEMO_ARGS)
