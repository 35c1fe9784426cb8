# All set-up happens here: `make demo` and `make test` build .venv/ when it is missing or stale.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench models serve figures notebooks clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test,app,notebooks,fast]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/seqlab check
	$(BIN)/seqlab names -n 10 --seed 0
	$(BIN)/seqlab poem "shall i compare thee to a summer's day" --seed 0
	$(BIN)/seqlab poem "shall i compare thee to a summer's day" --form sonnet --seed 0
	$(BIN)/seqlab jazz --seed 0 --measures 8 -o demo_solo.mid

test: $(STAMP)
	$(BIN)/ruff check src tests bench notebooks
	$(BIN)/python -m pytest -q

serve: $(STAMP)
	$(BIN)/seqlab serve

bench: $(STAMP)
	$(BIN)/seqlab bench

models: $(STAMP)
	$(BIN)/python -m seqlab.pretrained.build

# The figures of README.md's "See it" section, at the explorers' defaults.
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
