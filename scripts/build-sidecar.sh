#!/usr/bin/env bash
# Freeze the sidecar with PyInstaller (onedir) and put it where the Tauri build takes it:
#   src-python/dist/sage-sidecar/            -> bundled as the `sidecar/` resource folder
#   src-tauri/binaries/sage-sidecar-<triple> -> the externalBin launcher that execs it
source "$(dirname "$0")/lib.sh"
ensure_venv

log "pyinstaller: freezing the sidecar (onedir)"
(cd "$ROOT/src-python" && "$PY" -m PyInstaller --noconfirm --log-level WARN \
   --distpath "$ROOT/src-python/dist" --workpath "$CACHE_DIR/pyinstaller" sage_sidecar.spec)
# PyInstaller links wheel-vendored libraries (numpy.libs/, pillow.libs/...) into _internal/ as
# symlinks; Tauri copies resources by following symlinks, so each would ship twice (~35 MB). The
# extension modules find them through their own RPATH, so the links can go (tests/test_frozen.py
# imports those packages in the frozen build).
find "$ROOT/src-python/dist/sage-sidecar/_internal" -maxdepth 1 -type l -lname '*.libs/*' -delete
find "$ROOT/src-python/dist/sage-sidecar/_internal" -maxdepth 1 -type l -lname '*.dylibs/*' -delete
sidecar_sources_hash > "$ROOT/src-python/dist/.sage-sources-stamp"

triple="$(host_triple)"
ext=""; case "$triple" in *windows*) ext=".exe" ;; esac
mkdir -p "$ROOT/src-tauri/binaries"
log "rustc: building the sidecar launcher for $triple"
flags=(); case "$triple" in *windows-msvc) flags=(-C target-feature=+crt-static) ;; esac  # no VCRUNTIME140.dll needed
rustc --edition 2021 -C opt-level=s -C strip=symbols ${flags[@]+"${flags[@]}"} \
  -o "$ROOT/src-tauri/binaries/sage-sidecar-$triple$ext" "$ROOT/src-tauri/launcher/sidecar_launcher.rs"
du -sh "$ROOT/src-python/dist/sage-sidecar" "$ROOT/src-tauri/binaries/sage-sidecar-$triple$ext" >&2
