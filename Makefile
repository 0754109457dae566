# Two commands for learners and CI:  make lab  |  make test.   Also: make course (instructors), make lock.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.course-installed
NOTEBOOKS := week1 week2 week3 week4 week5 week6
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# uv installs no bytecode; let Python cache what it imports (some images set PYTHONDONTWRITEBYTECODE=1, which
# would make every kernel recompile torch and transformers: 12 s instead of 5 s per import).
unexport PYTHONDONTWRITEBYTECODE

.PHONY: setup lab test course headers lint lock clean

# One setup for everything (tools/install.py): the virtualenv, torch first at the locked version, then the exact
# lock with --no-deps (nothing can resolve to a newer torch), then this package, editable. uv does it in seconds
# when it is on PATH or can be bootstrapped with pip; INSTALLER=pip forces the pip route.
INSTALLER ?= auto
$(STAMP): requirements.lock pyproject.toml tools/install.py
	$(PYTHON) tools/install.py --venv $(VENV) --installer $(INSTALLER) --torch-args "$(TORCH_PIP_ARGS)"
	$(BIN)/python -c "import importlib.metadata as m, shared; print('installed: torch', m.version('torch'))"
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
# runtime wheels a GPU build of torch pulls in (nvidia-*, triton) are left out: the lock is for CPU CI; so is
# uv, the installer.
lock: setup
	{ grep '^#' requirements.lock; $(BIN)/python -m pip freeze --exclude-editable | grep -v '^-e' \
	    | grep -vE '^(nvidia-|triton==|uv==)' | sed -E 's/^(torch==[0-9.]+)\+.*/\1/' | LC_ALL=C sort -f; } > requirements.lock.new
	mv requirements.lock.new requirements.lock

clean:
	rm -rf build runs week*/runs .pytest_cache
