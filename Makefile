# Two commands (see README.md):  make course  and  make test.
# Both create the virtual environment .venv from requirements.txt when needed.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# nbgrader calls programs (alembic, jupyter) by name: find the ones in .venv first.
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: install system-packages course book models test grade release references notebooks benchmark backbone clean
# Debian packages the course needs besides Python, each with the command that shows it is there:
# bubblewrap (the sandbox of the grader), chromium (the book opened in a browser, make book and its test).
SYSTEM_PACKAGES := bubblewrap:bwrap chromium:chromium

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

# Installed with apt-get when missing (as root, or through sudo); elsewhere, a message says what to install.
system-packages:
	@missing=; for entry in $(SYSTEM_PACKAGES); do command -v $${entry#*:} >/dev/null 2>&1 || missing="$$missing $${entry%%:*}"; done; \
	[ -z "$$missing" ] || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null 2>&1; then SUDO=sudo; \
	  else echo "install the packages$$missing (Debian/Ubuntu: apt-get install$$missing)"; exit 1; fi; \
	  command -v apt-get >/dev/null 2>&1 || { echo "install the packages$$missing with your system's package manager"; exit 1; }; \
	  $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; }

# Generate the student notebooks, execute the solutions, autograde a demo submission.
course: $(STAMP)
	$(PY) -m course_autograde.run_course

# The book for self-paced readers: execute the notebooks in reader mode (each chapter whose trained models
# make models recorded loads them, in full mode; the others run in fast mode and say so), render them with
# Sphinx into build/book/html, open every page in headless Chromium (screenshots in build/book/screenshots).
book: $(STAMP) system-packages
	$(PY) -m course_autograde.book --execute

# Train, once and in full mode, every model the notebooks train (COURSE_CACHE_DIR/trained; hours on 2 cores;
# resumable): make models [NOTEBOOKS="04_resnet50 06_transfer_cam"]. Readers can download them instead:
# python -m course_utils.trained --download URL --sha256 HEX
models: $(STAMP)
	$(PY) -m course_autograde.make_models $(NOTEBOOKS)

# The test suite (fast mode: small subsets, few training steps), on two workers, a test file (or class)
# each at a time, costliest first (tests/conftest.py). TESTS="-n 0" runs it in one process.
TESTS ?= -n 2 --dist loadscope --no-loadscope-reorder
test: $(STAMP) system-packages
	COURSE_FAST=1 MPLBACKEND=Agg TF_CPP_MIN_LOG_LEVEL=2 $(PY) -m pytest $(TESTS) --durations=15

# Grade a class, each submission in its own sandbox:
#   make grade ASSIGNMENT=01_convolutions [STUDENTS="id1 id2"] [JOBS=2] [SCHEDULER=tcp://host:8786]
JOBS ?= 1
grade: $(STAMP) system-packages
	$(PY) -m course_autograde.grade $(ASSIGNMENT) $(foreach id,$(STUDENTS),--student $(id)) --jobs $(JOBS) \
	  $(if $(SCHEDULER),--scheduler $(SCHEDULER))

# What a class receives (build/release/): make release ASSIGNMENTS="01_convolutions 02_identity_block" CLOSED="01_convolutions"
release: $(STAMP)
	$(PY) -m course_autograde.release $(ASSIGNMENTS) $(if $(CLOSED),--closed $(CLOSED))

# Maintainer commands.
notebooks: $(STAMP)
	$(PY) -m course_autograde.sync
references: $(STAMP)
	$(PY) -m course_autograde.make_references
benchmark: $(STAMP)
	$(PY) -m benchmarks
# The course's pretrained backbone for notebook 06 (70-95 minutes on 2 cores, by CPU; resumable).
backbone: $(STAMP)
	$(PY) -m course_utils.pretrain

clean:
	rm -rf build autograde/submitted autograde/autograded autograde/feedback autograde/gradebook.db autograde/reports autograde/sandbox-runs
