# Every target bootstraps what it needs, so a fresh machine needs only `make test` or `make chaos`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
# Debian packages the tests and benchmarks use (installed with apt when running as root):
# - RabbitMQ 3.10 is the second system under test (--system rabbitmq);
# - a JDK runs java.util.Properties as the oracle for our properties parser;
# - kcat is a real librdkafka command-line client for the broker tests;
# - Apache ZooKeeper 3.8 is the reference the keeper is checked against;
# - fuse3 (fusermount3 and libfuse3) serves the fault filesystem that disk faults mount under the nodes' data
#   directories;
# - libnetfilter-queue-dev (and a C compiler) is what pip builds netfilterqueue against, the packet faults' NFQUEUE
#   handler;
# - chromium is the browser that `logquake serve`'s browser tests drive through Playwright (pip's playwright, from
#   the dev extras, launches Debian's /usr/bin/chromium: Playwright's own browser downloads are not used), with
#   fonts-liberation, the fonts its pages and screenshots are drawn in (only recommended by chromium, and apt here
#   skips recommends).
APT_PACKAGES := openjdk-17-jdk-headless kcat zookeeper rabbitmq-server fuse3 libnetfilter-queue-dev gcc python3-dev \
  chromium fonts-liberation
# Only perf, which counts the FUSE requests in disk_faults.
BENCH_APT_PACKAGES := linux-perf

.PHONY: install apt test bench sim fuzz chaos image serve clean

install: apt $(INSTALLED)

apt:
	@scripts/ensure-apt-packages.sh $(APT_PACKAGES)

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
	  || { echo "error: logquake needs Python >= 3.11 as '$(PYTHON)' (set PYTHON=...)" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

# The compiled batch scan (native/), pyporcupine's search (native/porcupine_search/) and the clock
# faults' preload library (native/clock_shift/), Rust: pip builds them with cargo, so a change there reinstalls.
NATIVE_SOURCES := native/Cargo.toml native/Cargo.lock $(wildcard native/src/*.rs) \
  native/porcupine_search/Cargo.toml native/porcupine_search/Cargo.lock $(wildcard native/porcupine_search/src/*.rs) \
  native/clock_shift/Cargo.toml native/clock_shift/Cargo.lock $(wildcard native/clock_shift/src/*.rs)
# rustup installs cargo here; a non-login shell may not have it on PATH yet.
export PATH := $(PATH):$(HOME)/.cargo/bin

# apt first: pip compiles netfilterqueue against libnetfilter-queue-dev.
$(INSTALLED): pyproject.toml $(NATIVE_SOURCES) | apt $(BIN)/python
	@command -v cargo >/dev/null \
	  || { echo "error: logquake compiles its batch scan and clock shift library (native/) with Rust's cargo, which is not installed: install a Rust toolchain (rustup) and run make again" >&2; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,packets]' \
	  || { echo "error: pip could not install logquake (is PyPI reachable? is crates.io, for the Rust crate's dependencies? did netfilterqueue fail to compile: is libnetfilter-queue-dev installed?)" >&2; exit 1; }
	@touch $@

# The node image for the docker backend, cached by content (under a second when nothing changed).
image: install
	$(BIN)/python -m cluster.deploy.image build

# Builds the image when a Docker engine answers; without one the docker tests skip (or fail when CI=true).
# Tests run on TEST_WORKERS processes (pytest-xdist): most of their time is spent waiting on clusters, so
# more workers than cores overlap the waits (on the 2-core machine, beside other work at a load average near 12:
# 37 minutes on 4 workers, then 20 on 6, one run each, 2026-12-07). tests/conftest.py schedules a file (or a folder whose
# clusters must not share the cores) as one unit of work, longest first. The 30 slowest tests are listed at
# the end, to see what a new test costs the suite's wall time.
TEST_WORKERS ?= 6
test: install
	$(BIN)/python -m cluster.deploy.image build --if-engine
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadscope --no-loadscope-reorder --durations 30 $(PYTEST_ARGS)

# A representative 60-second chaos run on the default backend (docker when an engine answers):
# 3 brokers, 3 keepers, replication factor 3, min ISR 2, acks=all, and a fault of every class, one after
# another every 5 s in a seeded shuffled cycle: process (kill, pause), network partition, disk (slow-disk),
# packet (packet-loss) and clock (clock-bump).
CHAOS_FAULTS ?= kill,pause,partition,slow-disk,packet-loss,clock-bump
CHAOS_ARGS ?= --workload queue --nemesis $(CHAOS_FAULTS) --nemesis-interval 5 --acks all --brokers 3 --keepers 3 \
  --replication-factor 3 --min-insync 2 --time-limit 60 --rate 200 --concurrency 6 --backend auto --seed 1
chaos: install
	$(BIN)/python -m cluster.deploy.image build --if-engine
	$(BIN)/logquake run $(CHAOS_ARGS)

# The store in a web browser, on http://127.0.0.1:8080/ (docs/serve.md); e.g. SERVE_ARGS="--store /data/store".
SERVE_ARGS ?=
serve: install
	$(BIN)/logquake serve $(SERVE_ARGS)

bench: install
	@scripts/ensure-apt-packages.sh $(BENCH_APT_PACKAGES)
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

# Long seeded searches of Raft and replication schedules (CI runs fixed ranges inside make test).
SIM_SEEDS ?= 0:20000
sim: install
	$(BIN)/python -m cluster.sim.raft.search --seeds $(SIM_SEEDS) --workers 2
	$(BIN)/python -m cluster.sim.replication.search --seeds $(SIM_SEEDS) --workers 2

# Long seeded fuzzing of the broker's Kafka port (alone, and as a leader a real follower replicates) and the keeper's
# client and peer ports (docs/fuzzing.md); make test runs a fixed slice of each (tests/fuzzing). Exits non-zero when a campaign found a failure.
FUZZ_FRAMES ?= 1000000
FUZZ_SEED ?= 1
FUZZ_SERVERS ?= broker broker-follower keeper keeper-peer
fuzz: install
	$(BIN)/python -m fuzzing $(FUZZ_SERVERS) --frames $(FUZZ_FRAMES) --seed $(FUZZ_SEED)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis native/target native/clock_shift/target \
	  cluster/broker/log/*.so cluster/clock/*.so
