# HearthNet — the two commands a newcomer needs:
#   make run    install dependencies, build, initialise a node if needed, start it
#   make test   install dependencies, build, run every test
PRESET ?= dev
BUILD_DIR := build/$(PRESET)
HEARTHNET := $(BUILD_DIR)/app/hearthnet
# ccache hits across clones: hash paths relative to the checkout.
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := true

.PHONY: run test build bootstrap configure bench fuzz-smoke lint asan clean

bootstrap:
	@scripts/bootstrap

configure: bootstrap
	@cmake --preset $(PRESET) >/dev/null

build: configure
	@cmake --build --preset $(PRESET)

test: build
	@scripts/setup-test-npm
	@scripts/start-avahi || echo "make test: mDNS daemon unavailable; mDNS tests will skip"
	@ctest --preset $(PRESET)

run: build
	@scripts/run-node $(HEARTHNET)

asan:
	@$(MAKE) test PRESET=asan

bench: bootstrap
	@cmake --preset release >/dev/null
	@cmake --build --preset release
	@scripts/run-bench build/release

fuzz-smoke: bootstrap
	@scripts/fuzz-smoke $(or $(FUZZ_SECONDS),5) $(FUZZ_TARGETS)

lint:
	@scripts/lint

clean:
	rm -rf build
