# cwauth — every entry point a developer or CI needs. See README.md.
#
#   make deps       install the system packages and Python modules building and testing need
#   make build      the release build (plugin + CLI) in .build/release/
#   make test       unit tests, then `make build` and the end-to-end suite against a real Mosquitto
#   make run        a demo database and Mosquitto with the plugin on 127.0.0.1:1883
#   make bench      the benchmarks (Benchmarks/README.md)
#   make assets     regenerate the Swift sources embedding docs/openapi.json and web/
#   make install    copy the release build, the broker snippet and the systemd unit under
#                   $(DESTDIR)$(PREFIX) (PREFIX=/usr/local); see docs/install.md
#   make uninstall  remove exactly what `make install` put there (same PREFIX/DESTDIR)
#   make deb        dist/cwauth_VERSION_ARCH.deb from the release build (docs/install.md)
#   make clean      remove build products, the demo's run/ folder, test artifacts and dist/
#
# `install` and `deb` package what `make build` made and never build: run with sudo, a build would
# leave root-owned files in .build/ and want the network. Build first, as yourself.
SWIFT        ?= swift
RELEASE_FLAGS = -c release -Xswiftc -static-stdlib
BIN_DIR       = .build/release
PYTHON       ?= python3
export CWAUTH_BIN    = $(CURDIR)/$(BIN_DIR)/cwauth
export CWAUTH_PLUGIN = $(CURDIR)/$(BIN_DIR)/libcwauth_mosquitto.so

# Where `make install` puts things. Mosquitto reads /etc/mosquitto whatever the prefix, so the snippet
# goes there; the deb sets PREFIX=/usr and UNIT_DIR=/lib/systemd/system.
PREFIX       ?= /usr/local
DESTDIR      ?=
BINDIR        = $(PREFIX)/bin
LIBDIR        = $(PREFIX)/lib/cwauth
UNIT_DIR     ?= $(PREFIX)/lib/systemd/system
CONF_DIR      = /etc/mosquitto/conf.d
STATE_DIR     = /var/lib/cwauth
DB_PATH       = $(STATE_DIR)/cwauth.db
DIST         ?= dist
DEB_COMPRESSION ?= xz

PRODUCTS      = $(BIN_DIR)/cwauth $(BIN_DIR)/libcwauth_mosquitto.so
INSTALLED     = $(DESTDIR)$(BINDIR)/cwauth \
                $(DESTDIR)$(LIBDIR)/libcwauth_mosquitto.so \
                $(DESTDIR)$(CONF_DIR)/cwauth.conf.example \
                $(DESTDIR)$(UNIT_DIR)/cwauth-serve.service
# The templates name the installed paths as @BINDIR@ and so on.
SUBST         = sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' -e 's|@DB@|$(DB_PATH)|g' \
                    -e 's|@STATEDIR@|$(STATE_DIR)|g'

.PHONY: all deps build test unit-test e2e-test run bench assets install uninstall deb clean

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

# Missing products mean no `make build` yet: say so instead of building here (see the header).
$(PRODUCTS):
	@echo "make: $@ is missing: run 'make build' first (as yourself, not with sudo)" >&2; exit 1

# The plugin is a shared library (0644: loaded, never executed); install(1) unlinks before it writes, so
# a broker running the old one keeps its copy. The snippet is an .example so that installing changes no
# running broker's behaviour (docs/install.md).
install: $(PRODUCTS)
	install -D -m 0755 $(BIN_DIR)/cwauth $(DESTDIR)$(BINDIR)/cwauth
	install -D -m 0644 $(BIN_DIR)/libcwauth_mosquitto.so $(DESTDIR)$(LIBDIR)/libcwauth_mosquitto.so
	install -d $(DESTDIR)$(CONF_DIR) $(DESTDIR)$(UNIT_DIR)
	$(SUBST) packaging/cwauth.conf.example.in > $(DESTDIR)$(CONF_DIR)/cwauth.conf.example
	chmod 0644 $(DESTDIR)$(CONF_DIR)/cwauth.conf.example
	$(SUBST) packaging/cwauth-serve.service.in > $(DESTDIR)$(UNIT_DIR)/cwauth-serve.service
	chmod 0644 $(DESTDIR)$(UNIT_DIR)/cwauth-serve.service

# Only cwauth's own folder goes with its files: bin/, conf.d/ and systemd/system/ are shared. An active
# copy of the snippet is the administrator's file and stays, but the broker would not start with it.
uninstall:
	rm -f $(INSTALLED)
	if [ -d $(DESTDIR)$(LIBDIR) ]; then rmdir --ignore-fail-on-non-empty $(DESTDIR)$(LIBDIR); fi
	@if grep -qs '^[[:space:]]*plugin[[:space:]]*$(LIBDIR)/libcwauth_mosquitto.so' $(DESTDIR)$(CONF_DIR)/*.conf; then \
	  echo "uninstall: warning: $(DESTDIR)$(CONF_DIR) still loads $(LIBDIR)/libcwauth_mosquitto.so;" \
	       "Mosquitto will not start until that file is removed or renamed" >&2; fi

deb: $(PRODUCTS)
	@DIST="$(DIST)" DEB_COMPRESSION="$(DEB_COMPRESSION)" bash scripts/build-deb.sh

clean:
	rm -rf .build run artifacts $(DIST)
