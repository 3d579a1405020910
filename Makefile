# npsnn_edu: two commands do all set-up on a fresh machine.
#   make lab    -> create .venv if missing, install the pinned stack, open JupyterLab on notebooks/
#   make test   -> same install, then lint (ruff + mypy on the core) and every test (unit tests, notebooks in fast
#                  mode via nbval, browser test)
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.npsnn-installed
PIP_QUIET := 2>&1 | { grep -v -E "is ignored: it is neither a file nor a directory" || true; }
JOBS ?= 2

.PHONY: help install lint lab test bench-notebooks course test-unit test-notebooks test-browser test-site site browser-deps hub-deps hub-test bench notebooks-html student-notebooks clean

help:
	@echo "make lab    - install (first time) and open JupyterLab on notebooks/"
	@echo "make test   - install (first time) and run the whole test suite (fast mode)"
	@echo "make bench  - run every benchmark (quick mode; about 25 minutes on 2 cores)"
	@echo "make bench-notebooks - seconds and memory of every notebook per run mode on one core"
	@echo "make course - an nbgrader course folder in build/course"
	@echo "make hub-test - the course on a real JupyterHub (instructor + 2 students, headless chromium)"
	@echo "make notebooks-html [FULL=1] - execute every notebook headless and export HTML to build/"
	@echo "make student-notebooks - generate student versions of the assignments"
	@echo "make site [FULL=1] [SOLUTIONS=remove] - the course website (Jupyter Book) in build/site/"

# torch is installed first and alone: the pinned 2.13.0 resolves to the local CPU wheel; anything else
# would pull gigabytes of CUDA packages.
$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -c constraints.txt torch==2.13.0 $(PIP_QUIET)
	$(PY) -m pip install -q -c constraints.txt -e ".[test,course,hub]" $(PIP_QUIET)
	$(PY) -c "import torch, snntorch, nglview, ase, plotly, anywidget, ipywidgets, tblite, pandas, nbgrader, jupyterhub, nbgitpuller; assert torch.__version__.startswith('2.13.0'), torch.__version__"
	@touch $(STAMP)

install: $(STAMP)

ROOT_FLAG := $(shell [ "$$(id -u)" = "0" ] && echo --allow-root)

lab: install
	$(VENV)/bin/jupyter-lab --notebook-dir=notebooks $(ROOT_FLAG) $(LAB_ARGS)

# Lint (ruff: pyflakes, pycodestyle, import order, bugbear), a type check of the core (mypy) and the package's
# layers (lint-imports: the contracts in .importlinter).
LINT_PATHS := npsnn_edu research tests benchmarks scripts notebooks
TYPED_CORE := npsnn_edu/potentials.py npsnn_edu/integrators.py npsnn_edu/trajectory.py npsnn_edu/systems.py \
	npsnn_edu/units.py npsnn_edu/validation.py npsnn_edu/registry.py npsnn_edu/config.py \
	npsnn_edu/ase_interop.py npsnn_edu/md/stability.py npsnn_edu/_compiled.py
lint: install
	$(VENV)/bin/ruff check $(LINT_PATHS)
	$(VENV)/bin/mypy $(TYPED_CORE)
	$(VENV)/bin/lint-imports --no-cache

# Browser dependency: Debian's chromium (installed with apt when we are root and it is missing).
browser-deps:
	@bash scripts/ensure_chromium.sh

test: install browser-deps
	$(MAKE) lint test-unit test-notebooks test-browser test-site hub-test

test-unit: install
	NPSNN_EDU_FAST=1 $(PY) -m pytest -q -n $(JOBS) --dist loadscope -m "not browser and not site and not hub" tests

test-notebooks: install
	NPSNN_EDU_FAST=1 $(PY) -m pytest -q -n $(JOBS) --dist loadscope --nbval-lax -p no:cacheprovider notebooks

# Real front end: JupyterLab + Debian's headless chromium (skips with a message when chromium is missing,
# fails under CI=true). Screenshots land in build/screenshots/.
test-browser: install browser-deps
	NPSNN_EDU_FAST=1 $(PY) -m pytest -q -m browser tests

# The course on a real JupyterHub (tests/test_hub.py): configurable-http-proxy from npm into build/hub/ (Node.js
# >= 18), jupyterhub + nbgitpuller from the `hub` extra; an instructor and two students in headless chromium.
CHP_VERSION := 5.3.0
CHP := build/hub/node_modules/.bin/configurable-http-proxy
$(CHP):
	@command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || { echo "make hub-test needs Node.js >= 18 \
	and npm (for configurable-http-proxy, JupyterHub's proxy): install them, e.g. apt-get install -y nodejs npm" >&2; exit 1; }
	@node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)' || { echo "make hub-test needs \
	Node.js >= 18 for configurable-http-proxy $(CHP_VERSION); found $$(node --version): upgrade Node.js" >&2; exit 1; }
	mkdir -p build/hub
	cd build/hub && npm install --no-audit --no-fund --loglevel=error --prefix . configurable-http-proxy@$(CHP_VERSION)
	@test -x $(CHP)

hub-deps: $(CHP)

hub-test: install browser-deps hub-deps
	NPSNN_EDU_CHP=$(abspath $(CHP)) NPSNN_EDU_FAST=1 $(PY) -m pytest -q -p no:cacheprovider -m hub tests/test_hub.py

# Execute every notebook headless (fast mode; FULL=1 for the teaching-size runs) and export HTML to build/html/.
notebooks-html: install
	$(PY) -m npsnn_edu.course.notebook_runner --out build $(if $(FULL),--full,)

# The course website (docs/site.md): every notebooks/0*.ipynb executed ($(JOBS) at a time, one kernel each; fast
# mode, FULL=1 for publishing), laid out with docs/ by npsnn_edu.course.site (solutions tagged: SOLUTIONS=hide, the
# default, or remove), built by Jupyter Book (pinned in site/requirements.txt, installed into build/site-venv) into
# build/site/ (index.html at its root). MathJax (npm, pinned) is served by the site itself: maths typeset offline.
SITE_VENV := build/site-venv
SITE_STAMP := $(SITE_VENV)/.npsnn-site-installed
MATHJAX_VERSION := 3.2.2
SITE_NPM := build/site-npm
$(SITE_STAMP): site/requirements.txt
	@command -v npm >/dev/null || { echo "make site needs npm (Node >= 18) for MathJax: apt-get install -y nodejs npm"; exit 1; }
	@test -x $(SITE_VENV)/bin/python || $(PYTHON) -m venv $(SITE_VENV)
	$(SITE_VENV)/bin/python -m pip install -q -r site/requirements.txt $(PIP_QUIET)
	npm install --prefix $(SITE_NPM) --no-save --no-audit --no-fund --loglevel=error mathjax@$(MATHJAX_VERSION)
	@touch $(SITE_STAMP)

site: install $(SITE_STAMP)
	rm -rf build/site build/site-src build/site-exec
	ls notebooks/0*.ipynb | xargs -P $(JOBS) -n 1 $(PY) -m npsnn_edu.course.notebook_runner --no-html --out build/site-exec $(if $(FULL),--full,)
	$(PY) -m npsnn_edu.course.site prepare --executed build/site-exec/executed --out build/site-src \
		--mathjax $(SITE_NPM)/node_modules/mathjax $(if $(SOLUTIONS),--solutions $(SOLUTIONS),)
	$(SITE_VENV)/bin/jupyter-book config sphinx build/site-src
	PYTHONPATH=build/site-src/_ext $(SITE_VENV)/bin/sphinx-build -b html -q --keep-going -w build/site-warnings.txt build/site-src build/site
	@echo "$$(grep -c WARNING build/site-warnings.txt || true) build warning(s): build/site-warnings.txt"
	-$(PY) -m npsnn_edu.course.site check-links build/site
	@echo "site: build/site/index.html"

# The built site: link check, every notebook and docs page present, solutions hidden, and headless Chromium on the
# start page and a chapter page (screenshots in build/screenshots/).
test-site: site browser-deps
	NPSNN_EDU_FAST=1 $(PY) -m pytest -q -p no:cacheprovider -m site tests/test_site.py

# Student versions of the instructor notebooks (solutions replaced by stubs) in build/student/.
student-notebooks: install
	$(PY) -m npsnn_edu.course.assignments --out build/student

# Every benchmark in quick mode (run on an idle machine; each prints a table and a last-line JSON object).
BENCH_STAMP := $(VENV)/.npsnn-bench-installed
$(BENCH_STAMP): $(STAMP)
	$(PY) -m pip install -q -c constraints.txt -e ".[test,course,bench]" $(PIP_QUIET)
	@touch $(BENCH_STAMP)

bench: install $(BENCH_STAMP)
	$(PY) benchmarks/md_vs_ase.py --quick
	$(PY) benchmarks/dt_slider_latency.py
	$(PY) benchmarks/gpr_vs_sklearn.py --quick
	$(PY) benchmarks/gpr_stability.py --quick
	$(PY) benchmarks/gpr_paper_claims.py --quick
	$(PY) benchmarks/npsnn_train.py --system harmonic
	$(PY) benchmarks/npsnn_operator.py --quick
	$(PY) benchmarks/npsnn_systems.py --quick
	$(PY) benchmarks/notebook_suite.py --mode fast

# Issue 21 at the paper's size. paper-campaign: the paper-length runs (PAPER_PLAN in benchmarks/gpr_paper_claims.py:
# MF5/MF2 1000 ps at 1000 K and 100 ps at 300/600 K x 3 seeds, xTB 10 ps per temperature, on the four paper
# molecules; malondialdehyde MF5 8 x 1 ns at 500 K) on Dask, into PAPER_STORE (hours of CPU; rerun to resume: finished
# runs are skipped). paper-claims: the other protocols at full size (about 40 min on one core, cached in
# build/paper_claims) and the shipped result gpr_paper_claims assembled from the store (whatever has finished).
PAPER_STORE ?= build/paper_campaign.jsonl
PAPER_WORKERS ?= 2
.PHONY: paper-campaign paper-claims
paper-campaign: install
	OMP_NUM_THREADS=1 $(PY) benchmarks/gpr_paper_claims.py --full --store $(PAPER_STORE) --workers $(PAPER_WORKERS) \
		--protocols
paper-claims: install
	OMP_NUM_THREADS=1 $(PY) benchmarks/gpr_paper_claims.py --full --store $(PAPER_STORE) --long-runs read \
		--work build/paper_claims --out-result npsnn_edu/data/results --update-docs

# Per-notebook seconds and peak RSS in every run mode on ONE core (about 25 minutes); --save feeds the banners.
bench-notebooks: install
	$(PY) benchmarks/notebook_suite.py --all-modes --save

# An nbgrader course folder generated from the instructor notebooks (source/ + release/), see docs/course.md.
course: install
	$(PY) -m npsnn_edu.course.assignments --nbgrader-course build/course --generate

clean:
	rm -rf build .pytest_cache
