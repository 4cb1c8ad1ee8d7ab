# Large-Model Engineering Lab — two commands: `make lab` and `make test`.
# Both build .venv when it is missing or stale (the stamp is the hash of pyproject.toml).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HASH   := $(shell $(PYTHON) -c "import hashlib;print(hashlib.sha256(open('pyproject.toml','rb').read()).hexdigest()[:16])")
STAMP  := $(VENV)/.stamp-$(HASH)
PORT   ?= 8888
# nbval over every notebook and the unit tests, two workers, one file per worker at a time
PYTEST_ARGS ?= -n 2 --dist loadfile --nbval-lax --nbval-cell-timeout=600 -p no:cacheprovider
ROOT_FLAG := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)

.PHONY: lab test venv timings plan student bench doctor clean help

help:
	@echo "make lab      set up .venv if needed and open JupyterLab on the course"
	@echo "make test     set up .venv if needed and run every test (unit + every notebook)"
	@echo "make timings  run each notebook headless; write notebooks/timings.json and the README table"
	@echo "make plan     write the workshop plan (half day / full day) from the measured timings"
	@echo "make student  write student copies of the notebooks into student/"
	@echo "make bench    run the benchmarks in benchmarks/"

venv: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c "import sys; sys.exit(0 if sys.version_info >= (3, 11) else 'Python >= 3.11 is needed: set PYTHON=python3.11 (or use the conda route in README.md).')"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@rm -f $(VENV)/.stamp-*
	@touch $@
	@echo "✓ .venv ready ($(HASH))"

lab: $(STAMP)
	TF_CPP_MIN_LOG_LEVEL=2 $(BIN)/jupyter lab $(ROOT_FLAG) --ServerApp.ip=127.0.0.1 --ServerApp.port=$(PORT) \
	  --ServerApp.port_retries=0 --ServerApp.root_dir=notebooks --LabApp.news_url=None \
	  --LabApp.app_settings_dir=$(CURDIR)/labkit/lab_settings \
	  --LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate \
	  --LabApp.default_url=/lab/tree/00_welcome.ipynb

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS) tests notebooks
	@echo "— training-loop benchmark (speed ratio, informative) —"
	@$(BIN)/python benchmarks/bench_train_loop.py 2>/dev/null || echo "benchmark could not run"

timings: $(STAMP)
	$(BIN)/labkit timings

plan: $(STAMP)
	$(BIN)/labkit plan

student: $(STAMP)
	$(BIN)/labkit student --out student

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_train_loop.py
	$(BIN)/python benchmarks/bench_compression.py

doctor: $(STAMP)
	$(BIN)/labkit doctor

clean:
	rm -rf $(VENV) student .pytest_cache
