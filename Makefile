# Common tasks. `make help` lists them. Every target that runs project code first runs
# `setup`, which is fast (seconds) once the environment exists.
SHELL := bash
.DEFAULT_GOAL := help

VENV ?= .venv
PY := $(VENV)/bin/python
WHEEL_CACHE := $(or $(GESSL_WHEEL_CACHE),$(or $(XDG_CACHE_HOME),$(HOME)/.cache)/gessl-mm/wheels)
DEMO_MSG := The demo arrives with the pretraining issue (configs + digits dataset).

.PHONY: help setup test demo lint clean clean-all clean-cache

help:  ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) \
		| awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

setup:  ## Create or check .venv with the OpenMMLab stack (first time: ~15 min, builds mmcv).
	bash tools/misc/setup_env.sh

test: setup  ## Run the test suite.
	$(PY) -m pytest tests

demo: setup  ## Run the demo (tools/demo.py).
	@if [ -f tools/demo.py ]; then $(PY) tools/demo.py; else echo "$(DEMO_MSG)"; fi

lint: setup  ## Check style with ruff.
	$(VENV)/bin/ruff check gessl_mm tools tests configs

clean:  ## Remove work_dirs, caches and __pycache__ (keeps .venv).
	rm -rf work_dirs .pytest_cache .ruff_cache
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

clean-all: clean  ## Also remove .venv (keeps the mmcv wheel cache).
	rm -rf $(VENV)

clean-cache:  ## Remove the mmcv wheel cache (the next setup rebuilds mmcv, ~15 min).
	rm -rf "$(WHEEL_CACHE)"
