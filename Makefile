# All set-up happens here: `make demo` and `make test` build .venv/ when it is missing or stale.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test browser docs docs-serve bench models serve figures notebooks clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test,app,notebooks,fast,docs]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/seqlab check
	$(BIN)/seqlab names -n 10 --seed 0
	$(BIN)/seqlab poem "shall i compare thee to a summer's day" --seed 0
	$(BIN)/seqlab poem "shall i compare thee to a summer's day" --form sonnet --seed 0
	$(BIN)/seqlab jazz --seed 0 --measures 8 -o demo_solo.mid

# The browser tests drive Debian's chromium: tools/chromium.sh installs it with apt-get when it is missing (as
# root), or stops with one line saying how. Tests that need a dataset skip without it (tests/conftest.py).
test: $(STAMP) browser
	$(BIN)/ruff check src tests bench notebooks
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict
	$(BIN)/python -m pytest -q

# The documentation site (mkdocs.yml): docs/*.md and the API reference from the docstrings, into build/site/.
# Strict: a broken link or anchor, a missing page or an API module not found fails. Nothing is fetched.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

# A live preview at http://127.0.0.1:8000/ that rebuilds as the pages change.
docs-serve: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve

browser: $(STAMP)
	@PLAYWRIGHT=$(BIN)/playwright sh tools/chromium.sh

serve: $(STAMP)
	$(BIN)/seqlab serve

bench: $(STAMP)
	$(BIN)/seqlab bench

models: $(STAMP)
	$(BIN)/python -m seqlab.pretrained.build

# The figures of docs/explorers.md (and README.md's picture), at the explorers' defaults.
# The cells page itself (about 0.8 MB) goes to build/; the first 5,000 characters of the sonnets are read.
figures: $(STAMP)
	$(BIN)/seqlab explore gradients -o docs/gradients.png
	$(BIN)/seqlab explore memory -o docs/memory.png
	@mkdir -p build
	$(BIN)/seqlab explore cells shakespeare "$$($(BIN)/python -c 'from seqlab import data; print(data.path("shakespeare"))')" \
		-o build/cells.html --png docs/cells.png
	$(BIN)/seqlab explore sampling dinos -o docs/sampling.png

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache

# Re-execute every notebook in place (stored with the outputs of a clean run); needs the datasets imported.
notebooks: $(STAMP)
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.timeout=600 notebooks/*.ipynb
