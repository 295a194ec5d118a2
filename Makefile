# ConvEngine — the two commands a user needs:
#   make test    the whole test suite (what CI runs through .ci/run)
#   make bench   the throughput benchmark (release build)
# Each installs what it needs first (`make setup`).

SWIFT      ?= swift
SCRATCH    ?= .build
RELEASE    := $(SWIFT) build -c release --scratch-path $(SCRATCH)
SHELL      := /bin/bash
.SHELLFLAGS := -o pipefail -c

# Prints how long a stage took: $(call stage,name,command)
define stage
	@start=$$(date +%s); echo "==> $(1)"; \
	$(2); rc=$$?; end=$$(date +%s); \
	echo "==> $(1): $$((end - start)) s (exit $$rc)"; \
	echo "$(1) $$((end - start))s" >> .stage-times; exit $$rc
endef

.PHONY: setup build test bench compare clean sanitize docs demo
.PHONY: consumer train train-compare

# Installs what pkg-config cannot find, with one apt-get update for all of it: OpenBLAS and pkg-config (the
# library), zlib (ConvEngineNPY's .npz and gzip).
# Also the Fashion-MNIST IDX files (Debian's dataset-fashion-mnist) when missing, for make train and make test.
FASHION_MNIST_DIR := /usr/share/datasets/fashion-mnist
setup:
	@missing=""; \
	if pkg-config --exists openblas 2>/dev/null; then \
		echo "setup: OpenBLAS found ($$(pkg-config --modversion openblas))"; \
	else missing="libopenblas-dev pkg-config"; fi; \
	if pkg-config --exists zlib 2>/dev/null; then \
		echo "setup: zlib found ($$(pkg-config --modversion zlib))"; \
	else missing="$$missing zlib1g-dev pkg-config"; fi; \
	if [ -e $(FASHION_MNIST_DIR)/train-images-idx3-ubyte.gz ]; then \
		echo "setup: Fashion-MNIST found in $(FASHION_MNIST_DIR)"; \
	else missing="$$missing dataset-fashion-mnist"; fi; \
	if [ -n "$$missing" ]; then \
		missing=$$(echo $$missing | tr ' ' '\n' | sort -u | tr '\n' ' '); \
		echo "setup: installing $$missing"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update && $$SUDO apt-get install -y $$missing; \
	fi

build: setup
	$(SWIFT) build --scratch-path $(SCRATCH)

test: setup
	@rm -f .stage-times; total_start=$$(date +%s); \
	$(MAKE) --no-print-directory test-stages; rc=$$?; \
	echo "==> stage times:"; cat .stage-times 2>/dev/null | sed 's/^/    /'; rm -f .stage-times; \
	echo "==> make test total: $$(( $$(date +%s) - total_start )) s"; exit $$rc

test-stages:
	$(call stage,build (debug),$(SWIFT) build --build-tests --scratch-path $(SCRATCH))
	$(call stage,unit tests,$(SWIFT) test --skip-build --scratch-path $(SCRATCH))
	$(call stage,benchmark build (release),$(RELEASE) --product convbench)
	$(call stage,benchmark quick mode,$(SCRATCH)/release/convbench --quick)
	$(call stage,fashion-mnist (short run),$(RELEASE) --product fashion-mnist && $(SCRATCH)/release/fashion-mnist --train-limit 3200 --test-limit 2000 --epochs 2 --output $(SCRATCH)/fashion-mnist-short)
	$(call stage,demo (short run),$(SCRATCH)/debug/demo --steps 100 --report-every 25)
	$(call stage,consumer package,$(MAKE) --no-print-directory consumer)
	$(call stage,memory check,$(RELEASE) --product convmemcheck && $(SCRATCH)/release/convmemcheck)

# The table is printed and saved with the JSON and the SVG chart in $(BENCH_OUT)/ (ignored by git); a --json or
# --chart in BENCH_ARGS comes last and so replaces the default path.
BENCH_OUT ?= bench-results
bench: setup
	$(RELEASE) --product convbench
	@mkdir -p $(BENCH_OUT)
	$(SCRATCH)/release/convbench --json $(BENCH_OUT)/bench.json --chart $(BENCH_OUT)/bench.svg $(BENCH_ARGS) \
		| tee $(BENCH_OUT)/bench.txt

# ConvEngine and PyTorch side by side (Benchmarks/compare.sh). Without PYTHON, the first run creates
# .venv-compare/ with PyTorch's CPU build (about a minute); later runs reuse it (rm -rf .venv-compare to redo).
compare: setup
	$(RELEASE) --product convbench
	$(RELEASE) --product convchart
	BENCH_OUT=$(BENCH_OUT) SCRATCH=$(SCRATCH) bash Benchmarks/compare.sh $(BENCH_ARGS)

# The training example (Sources/ConvDemo): learns a 3×3 edge detector with the library's forward pass,
# backward pass and SGD, printing the loss; DEMO_ARGS are passed on (`make demo DEMO_ARGS="--steps 400"`).
demo: setup
	$(RELEASE) --product demo
	$(SCRATCH)/release/demo $(DEMO_ARGS)

# The Fashion-MNIST example (Sources/FashionMNIST, README "Training on Fashion-MNIST"): trains the two-convolution
# CNN for 3 epochs, a progress line on stderr and the test accuracy per epoch on stdout; writes the initial and final
# weights (.npz), the batch order, the per-step losses and the curves (SVG) into $(TRAIN_OUT)/. TRAIN_ARGS are
# passed on (`make train TRAIN_ARGS="--epochs 5 --numerics strict"`; `fashion-mnist --help` lists them).
TRAIN_OUT ?= train-results
train: setup
	$(RELEASE) --product fashion-mnist
	$(SCRATCH)/release/fashion-mnist --output $(TRAIN_OUT) $(TRAIN_ARGS)

# The same training side by side with PyTorch (Examples/FashionMNIST/compare_torch.py, in .venv-compare as make
# compare sets it up): at 1 and 2 threads, the Swift run in strict numerics then PyTorch from its initial weights on
# its batches; per-step losses, epoch times, test accuracy, and a Swift run in default numerics. One epoch unless
# TRAIN_COMPARE_ARGS says otherwise (`TRAIN_COMPARE_ARGS="--epochs 3"`). Results in $(TRAIN_OUT)/compare/.
TRAIN_COMPARE_ARGS ?= --epochs 1
train-compare: setup
	$(RELEASE) --product fashion-mnist
	mkdir -p $(TRAIN_OUT) && PY=$$(bash Benchmarks/compare-venv.sh) && \
	GLIBC_TUNABLES=glibc.malloc.mmap_threshold=4294967295:glibc.malloc.trim_threshold=4294967295 \
	"$$PY" Examples/FashionMNIST/compare_torch.py --swift-binary $(SCRATCH)/release/fashion-mnist \
		--out $(TRAIN_OUT)/compare $(TRAIN_COMPARE_ARGS) | tee $(TRAIN_OUT)/compare.txt

# The DocC documentation of the library, built with swift-docc-plugin; fails on any warning.
# The archive is written to $(DOCS_SCRATCH)/plugins/Swift-DocC/outputs/ConvEngine.doccarchive.
DOCS_SCRATCH ?= .build-docs
docs: setup
	$(SWIFT) package --scratch-path $(DOCS_SCRATCH) generate-documentation --target ConvEngine --warnings-as-errors
	@echo "docs: $(DOCS_SCRATCH)/plugins/Swift-DocC/outputs/ConvEngine.doccarchive"
	@echo "docs: to read it, serve the archive and open http://localhost:8000/documentation/convengine:"
	@echo "        python3 -m http.server -d $(DOCS_SCRATCH)/plugins/Swift-DocC/outputs/ConvEngine.doccarchive 8000"
	@echo "      or build and serve it live: swift package --disable-sandbox preview-documentation --target ConvEngine"

# Builds and runs Examples/Consumer, a separate package that depends on this one by path, and checks that its
# resolution checked out nothing else: the library products need neither swift-argument-parser nor
# swift-docc-plugin, so SwiftPM does not fetch them for a consumer (README, Depending on ConvEngine).
consumer: setup
	cd Examples/Consumer && $(SWIFT) build --scratch-path .build-consumer && ./.build-consumer/debug/Consumer
	@extra=$$(ls -A Examples/Consumer/.build-consumer/checkouts 2>/dev/null); \
	if [ -n "$$extra" ]; then echo "consumer: resolving ConvEngine also checked out: $$extra" >&2; exit 1; fi; \
	echo "consumer: resolved ConvEngine alone (no other package checked out)"

clean:
	rm -rf $(SCRATCH) .stage-times .build-docs .build-asan .build-tsan Examples/Consumer/.build-consumer
# (.venv-compare/ and bench-results/ are kept: rm -rf them to set up PyTorch again or drop old results.)

# The whole test suite under AddressSanitizer, then ThreadSanitizer, each in its own build folder, with the
# reliability sweeps shrunk (CONVENGINE_TEST_SCALE=small; CONVENGINE_SANITIZER=1 lifts the tool tests' `ulimit -v`, which
# no sanitizer's shadow memory fits in). Full logs: .build-asan/sanitize.log, .build-tsan/sanitize.log.
# The suppression files name only code outside this project (XCTest, swift-foundation, swift-argument-parser, OpenBLAS;
# each entry says why). Not run by `make test` (about 7 minutes on 2 cores: too long to add to CI's 15 next to the rest).
SANITIZE_ENV := CONVENGINE_TEST_SCALE=small CONVENGINE_SANITIZER=1
sanitize: setup
	$(call stage,address sanitizer,mkdir -p .build-asan && $(SANITIZE_ENV) LSAN_OPTIONS="suppressions=$(CURDIR)/Tests/lsan-suppressions.txt:print_suppressions=0" $(SWIFT) test --sanitize=address --scratch-path .build-asan 2>&1 | tee .build-asan/sanitize.log | tail -n 25)
	$(call stage,thread sanitizer,mkdir -p .build-tsan && $(SANITIZE_ENV) TSAN_OPTIONS="suppressions=$(CURDIR)/Tests/tsan-suppressions.txt" $(SWIFT) test --sanitize=thread --scratch-path .build-tsan 2>&1 | tee .build-tsan/sanitize.log | tail -n 25)
	@cat .stage-times; rm -f .stage-times
