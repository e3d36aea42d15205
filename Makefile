# Two commands for a fresh Debian/Ubuntu machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DEMO   := .demo
DEMO_VILLAGE ?= 431382111249
# the demo's data-as-of date: the last day of last month by this machine's clock, so the footer
# does not start amber (35 days); a date (DEMO_AS_OF=2026-10-31) makes the same bytes again
DEMO_AS_OF ?= month-end
export KIVY_NO_ARGS := 1
export KIVY_NO_FILELOG := 1
export KIVY_NO_CONSOLELOG := 1

.PHONY: setup demo test test-core test-ui clean screenshots bench icons speech-phrases viewer bench-viewer fuzz

$(BIN)/kiosk: pyproject.toml deploy/install-system-packages.sh
	./deploy/install-system-packages.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

VIEWER := kiosk/viewer
VIEWER_DIST := $(VIEWER)/dist/app.js

setup: $(BIN)/kiosk $(VIEWER_DIST)

# The phone viewer (docs/viewer.md): npm ci installs exactly the versions and hashes in
# package-lock.json, esbuild bundles them; dist/ is built here, not committed.
$(VIEWER_DIST): $(VIEWER)/package.json $(VIEWER)/package-lock.json $(VIEWER)/build.mjs $(wildcard $(VIEWER)/src/*)
	cd $(VIEWER) && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build
	touch $@

viewer: $(VIEWER_DIST)

# Demo: synthetic data for a real village, signed with a throw-away demo key, imported, shown.
demo: setup
	rm -rf $(DEMO) && mkdir -p $(DEMO)
	$(BIN)/kiosk demo-data --village $(DEMO_VILLAGE) --as-of $(DEMO_AS_OF) --out $(DEMO)/source
	$(BIN)/kiosk keygen --out $(DEMO)/demo-test-key
	KIOSK_HOME=$(DEMO)/home $(BIN)/kiosk trust $(DEMO)/demo-test-key/signing.pub
	echo '{"idcard": {"device": "sim"}, "printer": {"device": "sim"}}' > $(DEMO)/home/config.json
	$(BIN)/kiosk bundle build $(DEMO)/source --key $(DEMO)/demo-test-key/signing.key --seq 1 --out $(DEMO)/bundle
	KIOSK_HOME=$(DEMO)/home $(BIN)/kiosk import $(DEMO)/bundle
	KIOSK_HOME=$(DEMO)/home $(BIN)/kiosk status
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ]; then \
	  KIOSK_HOME=$(DEMO)/home $(BIN)/kiosk run --windowed; \
	else \
	  echo "No display (DISPLAY/WAYLAND_DISPLAY unset): rendering the home screen to $(DEMO)/home.png instead."; \
	  KIOSK_HOME=$(DEMO)/home $(BIN)/kiosk screenshot home --out $(DEMO)/home.png; \
	fi

# Core tests and UI tests run in separate processes: Kivy keeps one window per process.
test: setup
	env -u DISPLAY -u WAYLAND_DISPLAY $(BIN)/python -m pytest -q -m "not ui" tests
	env -u DISPLAY -u WAYLAND_DISPLAY $(BIN)/python -m pytest -q -m ui tests

# The fuzz targets (tests/test_fuzz.py: reader frames, card text, printer status, manifests,
# key lists, source lines) for long: FUZZ_EXAMPLES random inputs each (make test runs 40).
FUZZ_EXAMPLES ?= 20000
fuzz: setup
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) env -u DISPLAY -u WAYLAND_DISPLAY $(BIN)/python -m pytest -q -m fuzz \
	  --hypothesis-profile=fuzz --hypothesis-show-statistics tests/test_fuzz.py

screenshots: setup
	env -u DISPLAY -u WAYLAND_DISPLAY $(BIN)/python -m kiosk.tools.screenshots docs/screenshots

# Icons and pictures: assets/*/*.svg → the committed PNGs (the kiosk needs no SVG renderer).
icons: setup
	command -v rsvg-convert >/dev/null || { SUDO=""; [ "$$(id -u)" -ne 0 ] && SUDO=sudo; \
	  $$SUDO apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends librsvg2-bin; }
	$(BIN)/python -m kiosk.tools.render_icons

# The phrase readings 朗读 uses, derived from the installed pypinyin (kiosk/speech/build_phrases.py).
speech-phrases: setup
	$(BIN)/python -m kiosk.speech.build_phrases

bench: setup
	$(BIN)/kiosk bench --scale city --json

# Phone viewer figures: its own size, bytes to show one record, time over a throttled link.
bench-viewer: setup
	env -u DISPLAY -u WAYLAND_DISPLAY $(BIN)/python tests/bench_viewer.py

clean:
	rm -rf $(VENV) $(DEMO) build *.egg-info $(VIEWER)/dist $(VIEWER)/node_modules
