# Two commands do everything on a fresh machine (see README.md):
#   make demo   train and evaluate the deep CNN on the embedded demo images
#   make test   run the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

$(BIN)/skcatdog: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test,pretrained]"
	touch $@

.PHONY: demo test docs
demo: $(BIN)/skcatdog
	$(BIN)/skcatdog demo --out runs/demo

test: $(BIN)/skcatdog
	$(BIN)/python -m pytest -n auto

docs: $(BIN)/skcatdog
	$(BIN)/pip install --quiet -e ".[test,docs]"
	$(BIN)/sphinx-build -b html docs docs/_build/html
