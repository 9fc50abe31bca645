# Entry points of README "Quick start": each one sets up .venv/ first (tools/setup_env.sh skips what is done).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
DEMO_CONFIG := configs/pinas/spos_supernet_mnist5k.py
DEMO_DIR := work_dirs/demo

.PHONY: install test demo

install:
	PYTHON=$(PYTHON) VENV=$(VENV) bash tools/setup_env.sh

test: install
	$(PY) -m pytest tests

demo: install
	$(PY) tools/dataset_converters/prepare_mnist5k.py data/mnist5k
	$(PY) tools/train.py $(DEMO_CONFIG) --work-dir $(DEMO_DIR)
	$(PY) tools/export_subnet.py $(DEMO_CONFIG) $(DEMO_DIR)/epoch_5.pth --subnet 31203 --out $(DEMO_DIR)/subnet.pth
