#!/usr/bin/env bash
# Prove the Linux installer: build the release .deb, check its contents, install it with dpkg,
# launch the *installed* app under Xvfb with a brand-new HOME and check through tauri-driver that
# it reaches "connected" (web/e2e/package), then uninstall it and check nothing is left behind.
# Called by scripts/test.sh when SAGE_TEST_PACKAGE=1 or CI=true. Needs root or sudo (dpkg).
source "$(dirname "$0")/lib.sh"

MAX_DEB_MB=150   # the size budget from the installer issue; README "Build installers" has figures

ensure_test_tools

checks_failed=0
check() {  # check "description" command...: report, and count failures instead of stopping
  local what="$1"; shift
  if "$@"; then log "ok: $what"; else printf '\033[1;31mFAIL:\033[0m %s\n' "$what" >&2; checks_failed=$((checks_failed + 1)); fi
}

deb="$("$ROOT/scripts/build.sh" | tail -n1)"
[ -f "$deb" ] || die "scripts/build.sh did not produce a .deb"
pkg="$(dpkg-deb -f "$deb" Package)"
version="$("$SYSTEM_PYTHON" "$ROOT/scripts/version.py")"
deb_mb=$(( ($(stat -c %s "$deb") + 1048575) / 1048576 ))
log "package $pkg $(dpkg-deb -f "$deb" Version): $deb_mb MB, installs $(dpkg-deb -f "$deb" Installed-Size) KB"

contents="$(dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./||; s|^|/|')"  # absolute paths
has() { grep -qx "$1" <<<"$contents"; }
check "the .deb is at most $MAX_DEB_MB MB ($deb_mb MB)" test "$deb_mb" -le "$MAX_DEB_MB"
check "package version is $version" test "$(dpkg-deb -f "$deb" Version)" = "$version"
check "depends on WebKitGTK 4.1" grep -q libwebkit2gtk-4.1 <<<"$(dpkg-deb -f "$deb" Depends)"
check "ships the app binary" has /usr/bin/sage-desktop
check "ships the sidecar launcher" has /usr/bin/sage-sidecar
check "ships the frozen sidecar" has /usr/lib/Sage/sidecar/sage-sidecar
check "ships a desktop entry" grep -q '^/usr/share/applications/.*\.desktop$' <<<"$contents"
ships_no_tests_or_caches() { ! grep -Eq "/(tests?|__pycache__)/" <<<"$contents"; }  # not an argument: the list is larger than one may be
check "ships no tests or caches" ships_no_tests_or_caches

trap 'purge_package "$pkg"' EXIT
purge_package "$pkg"
log "dpkg: installing $deb"
sudo_if_needed dpkg -i "$deb" >/dev/null || die "dpkg -i failed"
installed_files="$(dpkg -L "$pkg")"

log "e2e: launching the installed app"
check "the installed app reaches connected, then quits cleanly" \
  dbus-run-session -- xvfb-run -a -s "-screen 0 1280x800x24" \
  env SAGE_INSTALLED_APP=/usr/bin/sage-desktop SAGE_INSTALLED_SIDECAR_DIR=/usr/lib/Sage/sidecar \
  bash -c "cd '$ROOT/web' && node --test --test-reporter=spec e2e/package/"
# The installed-app smoke test every release leg runs (release.yml), proven here on the .deb.
check "the release legs' smoke test passes on the installed app" \
  dbus-run-session -- xvfb-run -a -s "-screen 0 1280x800x24" \
  "$PY" "$ROOT/scripts/smoke-installed.py" --app /usr/bin/sage-desktop

log "dpkg: uninstalling $pkg"
purge_package "$pkg"
trap - EXIT
leftovers() {  # installed regular files that still exist after the purge
  while IFS= read -r path; do [ -f "$path" ] && echo "$path"; done <<<"$installed_files"
}
check "uninstall removes every installed file" test -z "$(leftovers)"
running() { pgrep -f '^/usr/(bin/sage-|lib/Sage/)' || true; }
check "nothing from the package is left running" test -z "$(running)"

echo "package checks: $checks_failed failed"
[ "$checks_failed" -eq 0 ]
