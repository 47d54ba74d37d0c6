#!/usr/bin/env bash
# Build Sage Desktop's installers for this platform (Linux and macOS; Windows: scripts/build.ps1).
#
#   scripts/build.sh            release bundles: .deb on Linux, .app + .dmg on macOS
#   scripts/build.sh --debug    debug profile (fast compile; for local checks only)
#   scripts/build.sh --bundles deb,appimage   choose Tauri bundle formats
#
# Steps: freeze the sidecar (PyInstaller, src-python/sage_sidecar.spec) -> build the UI (vite) ->
# tauri build. The version comes from Cargo.toml (scripts/version.py). When
# TAURI_SIGNING_PRIVATE_KEY is set, updater artifacts are created and signed (docs/release.md).
# Prints each artifact with its size; the last line is the path of the main bundle.
source "$(dirname "$0")/lib.sh"

profile=release; bundles=""
while [ $# -gt 0 ]; do
  case "$1" in
    --debug) profile=debug ;;
    --bundles) bundles="$2"; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
  shift
done
case "$(uname -s)" in
  Linux) bundles="${bundles:-deb}" ;;
  Darwin) bundles="${bundles:-app,dmg}" ;;
  *) die "use scripts/build.ps1 on Windows" ;;
esac

ensure_apt
ensure_rust
ensure_venv
ensure_npm
ensure_sidecar_built
ensure_web_built

args=(build --ci --bundles "$bundles")
[ "$profile" = debug ] && args+=(--debug)
if [ -n "${TAURI_SIGNING_PRIVATE_KEY:-}" ]; then
  args+=(--config '{"bundle":{"createUpdaterArtifacts":true}}')
else
  log "warning: TAURI_SIGNING_PRIVATE_KEY is not set; building without signed updater artifacts"
fi
log "tauri: building $bundles ($profile) for version $("$SYSTEM_PYTHON" "$ROOT/scripts/version.py")"
(cd "$ROOT" && "$ROOT/web/node_modules/.bin/tauri" "${args[@]}") >&2

bundle_dir="$CARGO_TARGET_DIR/$profile/bundle"
log "sizes"
du -sh "$ROOT/src-python/dist/sage-sidecar" >&2
find "$bundle_dir" -maxdepth 2 -type f  \
  \( -name '*.deb' -o -name '*.rpm' -o -name '*.AppImage' -o -name '*.dmg' -o -name '*.sig' -o -name '*.tar.gz' \) \
  -exec du -h {} + >&2 || true
main="$(ls -t "$bundle_dir"/{deb/*.deb,dmg/*.dmg,macos/*.app} 2>/dev/null | head -n1 || true)"
[ -n "$main" ] || die "no bundle found under $bundle_dir"
echo "$main"
