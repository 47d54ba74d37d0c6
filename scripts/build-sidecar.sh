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
# Some wheels ship their extension modules with DWARF debug info (numkong 44 -> 4 MB, sqlcipher3
# 21 -> 9 MB, usearch 11 -> 3.5 MB): ~60 MB of the installed app and most of the .deb's size budget.
# Only the debug sections go (`--strip-debug`); the symbols the dynamic loader needs stay.
# tests/test_frozen.py and scripts/smoke-sidecar.py run the stripped build. Linux (the .deb) only.
if [ "$(uname -s)" = Linux ] && command -v strip >/dev/null && command -v readelf >/dev/null; then
  while IFS= read -r -d '' lib; do
    # grep without -q reads to the end: with pipefail, readelf killed by SIGPIPE would read as "no"
    if readelf -S "$lib" 2>/dev/null | grep '\.debug_info' >/dev/null; then strip --strip-debug "$lib"; fi
  done < <(find "$ROOT/src-python/dist/sage-sidecar/_internal" -type f -name '*.so*' -print0)
fi
sidecar_sources_hash > "$ROOT/src-python/dist/.sage-sources-stamp"

triple="$(host_triple)"
ext=""; case "$triple" in *windows*) ext=".exe" ;; esac
mkdir -p "$ROOT/src-tauri/binaries"
log "rustc: building the sidecar launcher for $triple"
flags=(); case "$triple" in *windows-msvc) flags=(-C target-feature=+crt-static) ;; esac  # no VCRUNTIME140.dll needed
rustc --edition 2021 -C opt-level=s -C strip=symbols ${flags[@]+"${flags[@]}"} \
  -o "$ROOT/src-tauri/binaries/sage-sidecar-$triple$ext" "$ROOT/src-tauri/launcher/sidecar_launcher.rs"
du -sh "$ROOT/src-python/dist/sage-sidecar" "$ROOT/src-tauri/binaries/sage-sidecar-$triple$ext" >&2
