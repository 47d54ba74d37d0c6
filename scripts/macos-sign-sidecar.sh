#!/usr/bin/env bash
# macOS: make the frozen sidecar (src-python/dist/sage-sidecar) notarizable before `tauri build`
# copies it into Sage.app as a resource. Tauri signs the app and its externalBin, never resources,
# so without this the bootloader, libpython and every extension module keep PyInstaller's
# throwaway ad-hoc signatures and notarization refuses the app.
#
#   1. The nested Python.framework (a framework-build Python, e.g. python.org's) is flattened:
#      Tauri copies resources by following symlinks, which breaks a framework's layout and its
#      signature. The bootloader only needs the library itself, `_internal/Python`.
#   2. Every Mach-O file is signed inside-out (deepest first, the executable last) with
#      APPLE_SIGNING_IDENTITY, the hardened runtime, a secure timestamp and, for the executable,
#      src-tauri/macos/sidecar.entitlements. Without an identity: ad-hoc (`-`), as the app is.
#   3. Each file is verified (`codesign --verify --strict`, and runtime + timestamp when signed
#      with an identity): a failure stops the build here, not at Apple's notary service.
# Called by scripts/build.sh on macOS. The identity must be in a keychain on the search list
# (the release workflow imports APPLE_CERTIFICATE into one first).
source "$(dirname "$0")/lib.sh"
[ "$(uname -s)" = Darwin ] || die "macos-sign-sidecar.sh runs on macOS only"

dist="$ROOT/src-python/dist/sage-sidecar"
internal="$dist/_internal"
identity="${APPLE_SIGNING_IDENTITY:--}"
entitlements="$ROOT/src-tauri/macos/sidecar.entitlements"
[ -x "$dist/sage-sidecar" ] || die "no frozen sidecar at $dist (run scripts/build-sidecar.sh)"

if [ -d "$internal/Python.framework" ]; then
  library="$(cd "$internal" && "$SYSTEM_PYTHON" -c 'import os; print(os.path.realpath("Python"))')"
  [ -f "$library" ] || die "Python.framework without a library behind _internal/Python"
  log "macOS: flattening the nested Python.framework into _internal/Python"
  rm -f "$internal/Python"
  cp "$library" "$internal/Python"
  rm -rf "$internal/Python.framework"
fi
# A symlink left in the folder would be copied as a second file by Tauri (and is not signed).
find "$dist" -type l -print | while IFS= read -r link; do
  log "macOS: replacing the symlink ${link#"$dist/"} by its target"
  target="$(cd "$(dirname "$link")" && "$SYSTEM_PYTHON" -c 'import os,sys; print(os.path.realpath(sys.argv[1]))' "$(basename "$link")")"
  rm "$link"
  if [ -e "$target" ]; then cp -R "$target" "$link"; fi
done

if [ "$identity" = - ]; then
  log "macOS: ad-hoc signing the sidecar (APPLE_SIGNING_IDENTITY is not set)"
  sign=(codesign --force --sign -)
else
  log "macOS: signing the sidecar with the Developer ID identity (hardened runtime, timestamp)"
  sign=(codesign --force --timestamp --options runtime --sign "$identity")
fi
count=0
while IFS= read -r file; do
  if [ "$file" = "$dist/sage-sidecar" ]; then continue; fi
  "${sign[@]}" "$file" >/dev/null
  count=$((count + 1))
done < <("$SYSTEM_PYTHON" "$ROOT/scripts/macho.py" list "$dist")
"${sign[@]}" --entitlements "$entitlements" "$dist/sage-sidecar" >/dev/null
log "macOS: signed $((count + 1)) Mach-O files"

log "macOS: verifying every signature"
while IFS= read -r file; do
  codesign --verify --strict "$file" || die "bad signature: $file"
  if [ "$identity" != - ]; then
    details="$(codesign --display --verbose=4 "$file" 2>&1)"
    grep -q 'flags=.*runtime' <<<"$details" || die "no hardened runtime: $file"
    grep -q '^Timestamp=' <<<"$details" || die "no secure timestamp: $file"
  fi
done < <("$SYSTEM_PYTHON" "$ROOT/scripts/macho.py" list "$dist")
# The signed build must still load its native libraries under the hardened runtime.
probe="$(mktemp -d)/probe.py"
echo 'import numpy, onnxruntime, cryptography.hazmat.bindings._rust, sqlite3, ctypes; print("ok")' > "$probe"
[ "$("$dist/sage-sidecar" --run-python "$probe")" = ok ] || die "the signed sidecar cannot import its native libraries"
log "macOS: the sidecar's signatures verify and it loads its native libraries"
