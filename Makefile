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
# Offline installs: `make wheelhouse` fills WHEELHOUSE; `WHEELHOUSE=path make lab|test` installs from it, no network.
WHEELHOUSE ?=
COURSE_SPEC ?= .[test,hub,zh]
PIP_FROM := $(if $(WHEELHOUSE),--no-index --find-links $(abspath $(WHEELHOUSE)),)
NPM_FROM := $(if $(WHEELHOUSE),--offline --cache $(abspath $(WHEELHOUSE))/npm-cache,)
PROXY_STAMP := workshop/node/node_modules/.stamp
# the Chinese JupyterLab interface: make lab LAB_LANG=zh_CN (needs the [zh] extra, installed by make lab)
LAB_LANG ?=

.PHONY: lab test venv timings plan student bench doctor clean help hub hub-deps wheelhouse capacity test-all pretrained mutation

help:
	@echo "make lab      set up .venv if needed and open JupyterLab on the course"
	@echo "make test     set up .venv if needed and run every test (unit + every notebook)"
	@echo "make timings  run each notebook headless; write notebooks/timings.json and the README table"
	@echo "make plan     write the workshop plan (half day / full day) from the measured timings"
	@echo "make student  write student copies of the notebooks into student/"
	@echo "make bench    run the benchmarks in benchmarks/"
	@echo "make hub      start the course server (JupyterHub) on http://127.0.0.1:8000 (workshop/README.md)"
	@echo "make wheelhouse WHEELHOUSE=dir   download every wheel the course needs (then WHEELHOUSE=dir make lab)"
	@echo "make capacity measure memory/CPU per notebook and learners per server (workshop/README.md)"
	@echo "make test-all make test + the full offline wheelhouse install (downloads ~3 GB)"

venv: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c "import sys; sys.exit(0 if sys.version_info >= (3, 11) else 'Python >= 3.11 is needed: set PYTHON=python3.11 (or use the conda route in README.md).')"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(if $(WHEELHOUSE),,$(BIN)/python -m pip install --quiet --upgrade pip)
	$(BIN)/python -m pip install --quiet $(PIP_FROM) -e '$(COURSE_SPEC)'
	@rm -f $(VENV)/.stamp-*
	@touch $@
	@echo "✓ .venv ready ($(HASH))"

lab: $(STAMP)
	TF_CPP_MIN_LOG_LEVEL=2 $(BIN)/jupyter lab $(ROOT_FLAG) --ServerApp.ip=127.0.0.1 --ServerApp.port=$(PORT) \
	  --ServerApp.port_retries=0 --ServerApp.root_dir=notebooks --LabApp.news_url=None \
	  --LabApp.app_settings_dir=$(if $(LAB_LANG),$$($(BIN)/python workshop/lab_lang.py $(LAB_LANG)),$(CURDIR)/labkit/lab_settings) \
	  --LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate \
	  --LabApp.default_url=/lab/tree/00_welcome.ipynb

test: $(STAMP)
	@if command -v npm >/dev/null; then $(MAKE) --no-print-directory $(PROXY_STAMP); \
	  else echo "npm not found: the course-server test (tests/test_hub.py) will skip"; fi
	$(BIN)/python -m pytest $(PYTEST_ARGS) tests notebooks
	@echo "— training-loop benchmark (speed ratio, informative) —"
	@$(BIN)/python benchmarks/bench_train_loop.py 2>/dev/null || echo "benchmark could not run"

timings: $(STAMP)
	$(BIN)/labkit timings

plan: $(STAMP)
	$(BIN)/labkit plan

student: $(STAMP)
	$(BIN)/labkit student --out student

# re-create datasets/tiny_gpt.npz and its two drafts (deterministic up to rounding; see datasets/README.md)
pretrained: $(STAMP)
	nice -n 5 $(BIN)/python scripts/make_pretrained.py $(PRETRAINED_ARGS)

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_train_loop.py
	$(BIN)/python benchmarks/bench_compression.py

doctor: $(STAMP)
	$(BIN)/labkit doctor

# mutation testing (issue 15): mutmut over the course machinery, not part of `make test`; figures in tests/README.md
MUTATION_MODULES ?= check quiz progress student data grade
mutation: $(STAMP)
	@$(BIN)/python -c "import mutmut" 2>/dev/null || $(BIN)/python -m pip install --quiet -e '.[dev]'
	nice -n 10 $(BIN)/python scripts/mutation.py $(MUTATION_MODULES)

# ---- classroom workshops (workshop/README.md)
$(PROXY_STAMP): workshop/node/package.json workshop/node/package-lock.json
	npm ci --prefix workshop/node --no-audit --no-fund --loglevel=error $(NPM_FROM)
	@touch $@

hub-deps: $(STAMP) $(PROXY_STAMP)

hub: hub-deps
	$(BIN)/jupyterhub -f workshop/jupyterhub_config.py

wheelhouse:
	@test -n "$(WHEELHOUSE)" || { echo "usage: make wheelhouse WHEELHOUSE=path/to/folder"; exit 2; }
	$(PYTHON) workshop/wheelhouse.py download $(WHEELHOUSE) '$(COURSE_SPEC)'
	npm ci --prefix workshop/node --no-audit --no-fund --loglevel=error --cache $(abspath $(WHEELHOUSE))/npm-cache
	@touch $(PROXY_STAMP)

capacity: $(STAMP)
	$(BIN)/python -m labkit capacity $(CAPACITY_ARGS)

test-all: test
	LABKIT_FULL_WHEELHOUSE=1 $(BIN)/python -m pytest -q -p no:cacheprovider tests/test_wheelhouse.py

clean:
	rm -rf $(VENV) student .pytest_cache
