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

# Installs OpenBLAS and pkg-config only when pkg-config cannot find OpenBLAS.
setup:
	@if pkg-config --exists openblas 2>/dev/null; then \
		echo "setup: OpenBLAS found ($$(pkg-config --modversion openblas))"; \
	else \
		echo "setup: installing libopenblas-dev and pkg-config"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update && $$SUDO apt-get install -y libopenblas-dev pkg-config; \
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
	$(call stage,unit tests,$(SWIFT) test --skip-build --scratch-path $(SCRATCH) 2>&1 | tail -n 60)
	$(call stage,benchmark build (release),$(RELEASE) --product convbench)
	$(call stage,benchmark quick mode,$(SCRATCH)/release/convbench --quick)

bench: setup
	$(RELEASE) --product convbench
	$(SCRATCH)/release/convbench $(BENCH_ARGS)

compare: setup
	$(RELEASE) --product convbench
	bash Benchmarks/compare.sh $(BENCH_ARGS)

clean:
	rm -rf $(SCRATCH) .stage-times
