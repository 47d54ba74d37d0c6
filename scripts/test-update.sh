#!/usr/bin/env bash
# Prove auto-update on Linux for real: build two .deb packages signed with a throwaway key (the
# current version and a newer one), install the older, then let web/e2e/package/update.test.mjs
# serve the newer one from a loopback feed and watch the installed app refuse a tampered
# download, install the genuine one through dpkg, and restart into it. Purges the package after.
# Called by scripts/test.sh with the package layer (CI=true or SAGE_TEST_PACKAGE=1). Needs root
# or sudo: the updater installs .deb files with `sudo dpkg -i` when pkexec is not available.
#
# The test packages are debug builds (fast to compile) whose only differences from a release
# are the throwaway public key, `dangerousInsecureTransportProtocol` (the feed is plain HTTP on
# loopback), and for the newer one the shell's version.
source "$(dirname "$0")/lib.sh"

ensure_test_tools
ensure_sidecar_built
ensure_web_built

work="$(mktemp -d)"
tauri="$ROOT/web/node_modules/.bin/tauri"
old_version="$("$SYSTEM_PYTHON" "$ROOT/scripts/version.py")"
new_version="$("$SYSTEM_PYTHON" - "$old_version" <<'PY'
import sys
major, minor, patch = sys.argv[1].split("-")[0].split(".")
print(f"{major}.{minor}.{int(patch) + 1}")
PY
)"

log "updater: a throwaway signing key"
(cd "$ROOT" && "$tauri" signer generate --ci -p "" -w "$work/update.key" -f >/dev/null)
export TAURI_SIGNING_PRIVATE_KEY="$work/update.key" TAURI_SIGNING_PRIVATE_KEY_PASSWORD=""
test_config="{\"bundle\":{\"createUpdaterArtifacts\":true},\"plugins\":{\"updater\":{\"pubkey\":\"$(cat "$work/update.key.pub")\",\"dangerousInsecureTransportProtocol\":true}}}"

build_deb() {  # build_deb NAME [extra tauri args...]: a signed debug .deb copied to $work/NAME.deb
  local name="$1"; shift
  log "updater: building the $name test package"
  (cd "$ROOT" && "$tauri" build --debug --ci --bundles deb --config "$test_config" "$@") >&2
  local deb
  deb="$(ls -t "$CARGO_TARGET_DIR"/debug/bundle/deb/*.deb | head -n1)"
  [ -f "$deb.sig" ] || die "no updater signature next to $deb"
  cp "$deb" "$work/$name.deb"; cp "$deb.sig" "$work/$name.deb.sig"
}
build_deb new --config "{\"version\":\"$new_version\"}"
build_deb old

pkg="$(dpkg-deb -f "$work/old.deb" Package)"
trap 'purge_package "$pkg"; rm -rf "$work"' EXIT
purge_package "$pkg"
log "dpkg: installing $pkg $old_version (test build)"
sudo_if_needed dpkg -i "$work/old.deb" >/dev/null

dbus-run-session -- xvfb-run -a -s "-screen 0 1280x800x24" \
  env SAGE_UPDATE_NEW_DEB="$work/new.deb" SAGE_UPDATE_NEW_VERSION="$new_version" \
      SAGE_UPDATE_OLD_VERSION="$old_version" SAGE_UPDATE_PACKAGE="$pkg" \
  bash -c "cd '$ROOT/web' && node --test --test-reporter=spec e2e/package/update.test.mjs"
