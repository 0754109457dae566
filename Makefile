# Two commands for learners and CI:  make lab  |  make test.   Also: make course (instructors), make lock.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.course-installed
TORCH  := $(shell grep -m1 '^torch==' requirements.lock)
NOTEBOOKS := week1 week2 week3 week4 week5 week6
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: setup lab test course headers lint lock clean

# One setup for everything: the virtualenv, torch first (a pinned CPU/CUDA build pip already finds),
# then the exact lock with --no-deps (nothing can resolve to a newer torch), then this package, editable.
$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else \
	    "error: the locked versions need Python >= 3.11; run: make PYTHON=python3.11 ...")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q "$(TORCH)" $(TORCH_PIP_ARGS)
	$(BIN)/python -m pip install -q --no-deps -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps -e .
	$(BIN)/python -c "import torch, pytorch_lightning, transformers, shared; print('installed: torch', torch.__version__)"
	touch $(STAMP)

setup: $(STAMP)

lab: setup
	$(BIN)/python -m ipykernel install --user --name transformers-course \
	    --display-name "Python (transformers course)" >/dev/null
	$(BIN)/jupyter lab --notebook-dir=. week1/01_environment_check.ipynb

# Unit tests, then every notebook headless, in one pytest run (2 workers; one notebook per worker,
# one torch thread each so the two never fight over the cores). Tiny profile unless you ask for another:
# make test TEST_PROFILE=full
TEST_PROFILE ?= tiny
test: setup
	COURSE_PROFILE=$(TEST_PROFILE) OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -n 2 --dist loadfile --timeout=600 \
	    --nbval-lax --nbval-cell-timeout=300 -p no:cacheprovider \
	    tests $(wildcard $(addsuffix /*.ipynb,$(NOTEBOOKS)))

# Execute all notebooks into build/ with their outputs and print notebook, seconds, key result.
course: setup
	$(BIN)/python tools/run_course.py --out build

headers: setup
	$(BIN)/python tools/headers.py

lint: setup
	$(BIN)/ruff check shared tools tests bench $(NOTEBOOKS)

# Re-freeze the virtualenv into the lock (after installing a new version into .venv on purpose). The CUDA
# runtime wheels a GPU build of torch pulls in (nvidia-*, triton) are left out: the lock is for CPU CI.
lock: setup
	{ grep '^#' requirements.lock; $(BIN)/python -m pip freeze --exclude-editable | grep -v '^-e' \
	    | grep -vE '^(nvidia-|triton==)' | sed -E 's/^(torch==[0-9.]+)\+.*/\1/' | LC_ALL=C sort -f; } > requirements.lock.new
	mv requirements.lock.new requirements.lock

clean:
	rm -rf build runs week*/runs .pytest_cache
