# Two commands for learners and CI:  make lab  |  make test.  Without make (Windows): python -m tools lab | test,
# which is what these two targets run (tools/__main__.py: one code path for both).
# Also: make test-multi (as on 2 GPUs), make test-full (the full profile, offline), make test-min / test-latest
# (the version bounds), make test-colab (Colab's runtime), make solutions (the worked solutions), make course
# (instructors), make slides (lecture decks) and make site (the course website), both from make course's executed
# notebooks, make lock. Those are for maintainers and CI on Linux (and macOS): they use the shell (mktemp, rm, env).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
NOTEBOOKS := week1 week2 week3 week4 week5 week6
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# uv installs no bytecode; let Python cache what it imports (some images set PYTHONDONTWRITEBYTECODE=1, which
# would make every kernel recompile torch and transformers: 12 s instead of 5 s per import).
unexport PYTHONDONTWRITEBYTECODE

.PHONY: setup lab test test-multi test-full test-min test-latest test-colab solutions course prose slides site headers \
        lint lock clean

# One setup for everything (python -m tools setup -> tools/setup/install.py): the virtualenv, torch first at the
# locked version, then the exact lock with --no-deps (nothing can resolve to a newer torch), then this package,
# editable; skipped while $(VENV) is newer than requirements.lock, pyproject.toml and the installer. uv does it in
# seconds when it is on PATH or can be bootstrapped with pip; INSTALLER=pip forces the pip route.
INSTALLER ?= auto
SETUP_ARGS = --venv $(VENV) --installer $(INSTALLER) --torch-args "$(TORCH_PIP_ARGS)"
setup:
	$(PYTHON) -m tools setup $(SETUP_ARGS)

# JupyterLab on the course (tools/setup/lab.py): registers the kernel, passes --allow-root only when you are root, and
# Jupyter prints the URL to open. Extra arguments: make lab LAB_ARGS="--no-browser --port 8899"
lab:
	$(PYTHON) -m tools lab $(SETUP_ARGS) $(LAB_ARGS)

# Unit tests, then every notebook headless, in one pytest run (2 workers; one notebook per worker,
# one torch thread each so the two never fight over the cores). Tiny profile unless you ask for another:
# make test TEST_PROFILE=full. COURSE_HEADLESS=1: no progress bars, whatever CI says. tools/build/prebuild.py first
# builds, once, what several notebooks share (a fine-tuned classifier, converted checkpoints: shared.cache).
# The same options as tools/__main__.py's PYTEST_NB, which make test runs.
TEST_PROFILE ?= tiny
PYTEST_NB := -p no:cacheprovider --nbval-lax --nbval-cell-timeout=300 --timeout=900
test:
	$(PYTHON) -m tools test $(SETUP_ARGS) --profile $(TEST_PROFILE)

# The worked solutions (solutions/weekN/, tools/authoring/solutions.py) of the weeks in SOLVED_WEEKS, executed like the
# notebooks in make test (tiny profile unless you ask for another, headless, 2 workers, one torch thread each) but
# in their own target and CI job, so make test keeps its time budget.
solutions: setup
	COURSE_HEADLESS=1 COURSE_PROFILE=$(TEST_PROFILE) $(BIN)/python -m tools.build.prebuild
	COURSE_HEADLESS=1 COURSE_PROFILE=$(TEST_PROFILE) OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -n 2 \
	    --dist loadfile $(PYTEST_NB) $$($(BIN)/python -m tools.authoring.solutions --solved)

# Every notebook as on a machine with several GPUs: Lightning's ddp_notebook with all GPUs there, or, with fewer
# than two, two CPU processes (COURSE_DEVICES=2 makes the course pick ddp_notebook itself). One notebook at a
# time, since each already uses two processes.
test-multi: setup
	@n=$$($(BIN)/python -c "import torch; print(torch.cuda.device_count())"); \
	if [ "$$n" -ge 2 ]; then emulate=""; echo "test-multi: $$n GPUs"; \
	else emulate="COURSE_ACCELERATOR=cpu COURSE_DEVICES=2"; echo "test-multi: emulating 2 devices with 2 CPU processes"; fi; \
	env $$emulate COURSE_HEADLESS=1 COURSE_PROFILE=$(TEST_PROFILE) OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q \
	    $(PYTEST_NB) tests/notebooks $(wildcard $(addsuffix /*.ipynb,$(NOTEBOOKS)))

# The full profile's code path, offline: stand-ins under the real Hub ids in a throwaway Hugging Face home
# (tools/fixtures/stand_in_hub.py), the Hub switched off and HF_ENDPOINT pointed at a closed port, the tiny profile's
# sizes, learned-result asserts on stand-in weights relaxed and counted (run.learned). Executed notebooks land in
# build/full/.
test-full: setup
	@home=$$(mktemp -d /tmp/course-stand-in.XXXXXX); trap 'rm -rf "$$home"' EXIT; \
	$(BIN)/python -m tools.fixtures.stand_in_hub --home "$$home" && \
	export HF_HOME="$$home" COURSE_CACHE="$$home/course" HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 \
	    TRANSFORMERS_OFFLINE=1 HF_ENDPOINT=http://127.0.0.1:9 COURSE_PROFILE=full COURSE_REHEARSAL=1 \
	    COURSE_HEADLESS=1 OMP_NUM_THREADS=1 && unset HF_HUB_CACHE HF_DATASETS_CACHE && \
	$(BIN)/python -m tools.build.prebuild && \
	$(BIN)/python -m tools.build.run_course --out build/full --jobs 2 $(NOTEBOOKS_SELECTION)

# The promises in pyproject.toml (tools/setup/bounds.py, README "Supported versions"): a fresh .venv-min with every
# direct dependency at its lower bound, or a fresh .venv-latest with the newest releases; torch stays at the lock
# in both. Then the unit tests and week 1 in it. The venv is rebuilt on every call (uv: about 10 s), since what
# "newest" means changes by itself. make test's own route (.venv, the exact lock) is untouched.
ROUTE_TESTS := tests week1
route_tests = COURSE_HEADLESS=1 COURSE_PROFILE=tiny OMP_NUM_THREADS=1 $(1)/bin/python -m pytest -q -n 2 \
	--dist loadfile $(PYTEST_NB) $(ROUTE_TESTS)
test-min test-latest: test-%:
	$(PYTHON) -m tools.setup.bounds --route $* --venv .venv-$* --torch-args "$(TORCH_PIP_ARGS)"
	$(call route_tests,.venv-$*)

# Colab's runtime (tools/setup/colab.py, README "Supported versions"): a fresh .venv-colab on Colab's Python (3.13)
# with Colab's versions, from the snapshot in tools/setup/colab/, of every package the course touches, torch at
# Colab's version (the build your index serves: PyPI's brings CUDA runtime wheels, GBs; CI takes the CPU index);
# then the notebooks' own Colab set-up cell, its pip command pointed at this checkout instead of GitHub (what it
# changed, and that torch stayed: .venv-colab/colab-changes.txt); then what the tests need and Colab lacks (pytest
# plugins, JupyterLab, the tiny profile's weight wheels); then the unit tests and week 1. COLAB_PYTHON: the
# interpreter, a path or a version (default 3.13: this Python, python3.13 on PATH, or pyenv's).
COLAB_PYTHON ?= 3.13
test-colab:
	$(PYTHON) -m tools.setup.colab --venv .venv-colab --python $(COLAB_PYTHON) --torch-args "$(TORCH_PIP_ARGS)"
	$(call route_tests,.venv-colab)

# Execute all notebooks into build/ with their outputs and print notebook, seconds, key result.
course: setup
	COURSE_HEADLESS=1 $(BIN)/python -m tools.build.run_course --out build

# Lecture slides (tools/build/slides.py): one reveal.js deck per executed notebook, build/slides/NN_name.slides.html,
# slide breaks from the headings; reveal.js, require.js, jQuery and MathJax fetched once from npm into
# .course_cache/slides-vendor/ and copied to build/slides/vendor/, so the decks load nothing from the internet.
# Then tools/build/check_slides.py opens every deck in headless Chromium (apt-get install chromium), visits every slide,
# fails on any console error and saves screenshots in build/slides/screenshots/. SLIDES_CHECK=0 skips the check.
# Both slides and site run `make course` first when build/ holds no executed notebook.
SLIDES_CHECK ?= 1
EXECUTED := ls build/week*/*.ipynb >/dev/null 2>&1 || $(MAKE) course
slides: setup
	@$(EXECUTED)
	$(BIN)/python -m tools.build.slides
	@if [ "$(SLIDES_CHECK)" != 0 ]; then $(BIN)/python -m tools.build.check_slides; \
	else echo "slides: browser check skipped (SLIDES_CHECK=0)"; fi

# The course website (tools/build/website.py): a Sphinx project generated from course.toml into build/site-src (myst-nb,
# sphinx-book-theme, execution off) with the executed notebooks and the solutions, built into build/site, then
# crawled: a notebook without a page or a broken relative link fails the target.
site: setup
	@$(EXECUTED)
	$(BIN)/python -m tools.build.website

# The learner's view of the executed notebooks (tools/authoring/prose.py): every number the prose quotes is printed by
# the run or held by its code, and no machinery (absolute paths, CI, the rehearsal) shows. make course first when
# build/ holds no executed notebook.
prose: setup
	@$(EXECUTED)
	$(BIN)/python -m tools.authoring.prose build

headers: setup
	$(BIN)/python -m tools.authoring.headers

# What pre-commit and tests/test_lint.py check (STYLE.md), with the fixes applied: ruff's fixes, its formatter,
# then the spelling check (which only reports).
LINTED := shared tools tests bench scripts solutions $(NOTEBOOKS)
lint: setup
	$(BIN)/ruff check --fix $(LINTED)
	$(BIN)/ruff format $(LINTED)
	$(BIN)/python -m pytest -q tests/test_lint.py

# Re-freeze the virtualenv into the lock (after installing a new version into .venv on purpose). The CUDA
# runtime wheels a GPU build of torch pulls in (nvidia-*, triton) are left out: the lock is for CPU CI; so is
# uv, the installer. Lines with an environment marker (`name==X ; sys_platform == "win32"`: what Windows or macOS
# needs besides the Linux set) are kept as they are.
lock: setup
	{ grep '^#' requirements.lock; { grep -v '^#' requirements.lock | grep ' ; '; \
	    $(BIN)/python -m pip freeze --exclude-editable | grep -v '^-e' | grep -vE '^(nvidia-|triton==|uv==)' \
	    | sed -E 's/^(torch==[0-9.]+)\+.*/\1/'; } | LC_ALL=C sort -f; } > requirements.lock.new
	mv requirements.lock.new requirements.lock

clean:
	rm -rf build runs .venv-min .venv-latest .venv-colab week*/runs .pytest_cache
