#!/usr/bin/env bash
# Build Sage Desktop's installers for this platform (Linux and macOS; Windows: scripts/build.ps1).
#
#   scripts/build.sh            release bundles: .deb on Linux, .app + .dmg on macOS
#   scripts/build.sh --debug    debug profile (fast compile; for local checks only)
#   scripts/build.sh --bundles deb   choose Tauri bundle formats (no AppImage: docs/release.md)
#
# Steps: freeze the sidecar (PyInstaller, src-python/sage_sidecar.spec) -> on macOS sign it
# inside-out (scripts/macos-sign-sidecar.sh) -> build the UI (vite) -> tauri build with the
# release-time config overlay (scripts/release_config.py: updater key and feed, signing, minimum
# macOS) passed as a file. The version comes from Cargo.toml (scripts/version.py). Release
# secrets and variables come from the environment (docs/release.md); empty ones count as unset.
# Prints each artifact with its size; the last line is the path of the main bundle.
source "$(dirname "$0")/lib.sh"

profile=release; bundles=""
while [ $# -gt 0 ]; do
  case "$1" in
    --debug) profile=debug ;;
    --bundles) bundles="$2"; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
  shift
done
case "$(uname -s)" in
  Linux) os=linux; bundles="${bundles:-deb}" ;;
  Darwin) os=darwin; bundles="${bundles:-app,dmg}" ;;
  *) die "use scripts/build.ps1 on Windows" ;;
esac
case ",$bundles," in
  *,appimage,*) die "no AppImage: linuxdeploy rewrites the PyInstaller executable and breaks it (docs/release.md)" ;;
esac

# An unset secret reaches a GitHub job as an empty variable, and the Tauri bundler treats an
# empty APPLE_CERTIFICATE or TAURI_SIGNING_PRIVATE_KEY as set (and fails on it): unset them.
for name in APPLE_CERTIFICATE APPLE_CERTIFICATE_PASSWORD APPLE_SIGNING_IDENTITY APPLE_ID \
    APPLE_PASSWORD APPLE_TEAM_ID APPLE_API_KEY APPLE_API_ISSUER APPLE_API_KEY_PATH \
    TAURI_SIGNING_PRIVATE_KEY TAURI_SIGNING_PRIVATE_KEY_PASSWORD SAGE_UPDATER_PUBKEY SAGE_UPDATER_ENDPOINT \
    SAGE_UPDATER_PREVIOUS_PUBKEY; do
  if [ -z "${!name:-}" ]; then unset "$name"; fi
done
# A password-less updater key still needs the variable, set and empty.
if [ -n "${TAURI_SIGNING_PRIVATE_KEY:-}" ]; then export TAURI_SIGNING_PRIVATE_KEY_PASSWORD="${TAURI_SIGNING_PRIVATE_KEY_PASSWORD:-}"; fi

ensure_apt
ensure_rust
ensure_venv
ensure_npm
ensure_sidecar_built
ensure_web_built

if [ "$os" = darwin ]; then "$ROOT/scripts/macos-sign-sidecar.sh"; fi

overlay="$CACHE_DIR/release.conf.json"
"$SYSTEM_PYTHON" "$ROOT/scripts/release_config.py" --os "$os" --out "$overlay" \
  --sidecar "$ROOT/src-python/dist/sage-sidecar" >/dev/null
args=(build --ci --config "$overlay")
[ "$profile" = debug ] && args+=(--debug)
[ -n "${TAURI_SIGNING_PRIVATE_KEY:-}" ] || log "warning: TAURI_SIGNING_PRIVATE_KEY is not set; building without signed updater artifacts"
tauri() { (cd "$ROOT" && "$ROOT/web/node_modules/.bin/tauri" "$@") >&2; }
bundle_dir="$CARGO_TARGET_DIR/$profile/bundle"
log "tauri: building $bundles ($profile) for version $("$SYSTEM_PYTHON" "$ROOT/scripts/version.py")"
if [ "$os" = darwin ] && [ -n "${APPLE_ID:-}${APPLE_API_KEY:-}" ]; then
  # Verify the signed app before Apple sees it: first bundle it without the notarization
  # credentials, check every signature in it, then build again (cargo is done by then) to
  # notarize and make the .dmg.
  log "macOS: signing Sage.app without notarizing, to verify it first"
  (unset APPLE_ID APPLE_PASSWORD APPLE_TEAM_ID APPLE_API_KEY APPLE_API_ISSUER APPLE_API_KEY_PATH
   tauri "${args[@]}" --bundles app)
  codesign --verify --deep --strict --verbose=2 "$bundle_dir/macos/Sage.app" >&2 \
    || die "Sage.app's signatures do not verify: not sending it to notarization"
fi
tauri "${args[@]}" --bundles "$bundles"
if [ "$os" = darwin ] && [ -d "$bundle_dir/macos/Sage.app" ]; then
  log "macOS: verifying Sage.app's signatures"
  codesign --verify --deep --strict --verbose=2 "$bundle_dir/macos/Sage.app" >&2 \
    || die "Sage.app's signatures do not verify"
  if [ -n "${APPLE_ID:-}${APPLE_API_KEY:-}" ]; then
    xcrun stapler validate "$bundle_dir/macos/Sage.app" >&2 || die "Sage.app has no notarization ticket"
    spctl --assess --type execute --verbose=2 "$bundle_dir/macos/Sage.app" >&2 || die "Gatekeeper refuses Sage.app"
  fi
fi
if [ -n "${TAURI_SIGNING_PRIVATE_KEY:-}" ]; then
  log "updater: checking every updater signature against the embedded public key"
  signed=()  # (no mapfile: macOS ships bash 3.2)
  while IFS= read -r sig; do signed+=("${sig%.sig}"); done \
    < <(find "$bundle_dir" -maxdepth 2 -type f -name '*.sig')
  [ ${#signed[@]} -gt 0 ] || die "no updater signatures under $bundle_dir"
  # During a key rotation the installed apps still hold the previous key (docs/release.md).
  "$PY" "$ROOT/scripts/updater_key.py" verify --pubkey "${SAGE_UPDATER_PREVIOUS_PUBKEY:-$SAGE_UPDATER_PUBKEY}" "${signed[@]}" >&2
fi

log "sizes"
du -sh "$ROOT/src-python/dist/sage-sidecar" >&2
find "$bundle_dir" -maxdepth 2 -type f  \
  \( -name '*.deb' -o -name '*.rpm' -o -name '*.AppImage' -o -name '*.dmg' -o -name '*.sig' -o -name '*.tar.gz' \) \
  -exec du -h {} + >&2 || true
main="$(ls -t "$bundle_dir"/{deb/*.deb,dmg/*.dmg,macos/*.app} 2>/dev/null | head -n1 || true)"
[ -n "$main" ] || die "no bundle found under $bundle_dir"
echo "$main"
