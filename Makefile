# cwauth — every entry point a developer or CI needs. See README.md.
SWIFT        ?= swift
RELEASE_FLAGS = -c release -Xswiftc -static-stdlib
BIN_DIR       = .build/release
PYTHON       ?= python3
export CWAUTH_BIN    = $(CURDIR)/$(BIN_DIR)/cwauth
export CWAUTH_PLUGIN = $(CURDIR)/$(BIN_DIR)/libcwauth_mosquitto.so

.PHONY: all deps build test unit-test e2e-test run bench assets clean

all: build

deps:
	@bash scripts/install-deps.sh

# One release build serves the plugin (static Swift runtime: Mosquitto loads it with nothing beside it)
# and the CLI the end-to-end tests drive.
build: deps
	$(SWIFT) build $(RELEASE_FLAGS)

unit-test: deps
	$(SWIFT) test

e2e-test: build
	$(PYTHON) -m pytest -q Tests/e2e

test: unit-test e2e-test

run: build
	@bash scripts/run-demo.sh

bench: build
	@bash Benchmarks/run.sh

# Regenerates the Swift sources holding docs/openapi.json and web/ after either is edited. The generated
# sources are committed, so building and testing never need this (or Python).
assets:
	$(PYTHON) scripts/embed_assets.py

clean:
	rm -rf .build run artifacts
