#!/usr/bin/env bash
# Install whatever is missing, build, and launch Sage Desktop with everything wired.
#
#   scripts/run.sh           run in this desktop session
#   scripts/run.sh --xvfb    run under a virtual display (for machines without one)
#   scripts/run.sh --frozen  use the frozen sidecar instead of the venv (what installers ship)
#   scripts/run.sh --demo    also start a scripted demo model, configured as "Demo (scripted)":
#                            no API key or local model server needed to see a streamed answer
#
# Data goes to the normal per-user data dir unless SAGE_DATA_DIR is set (--demo uses its own).
source "$(dirname "$0")/lib.sh"

use_xvfb=0; frozen=0; demo=0
for arg in "$@"; do
  case "$arg" in
    --xvfb) use_xvfb=1 ;;
    --frozen) frozen=1 ;;
    --demo) demo=1 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) die "unknown option $arg (see --help)" ;;
  esac
done

# Before minutes of building: is there a screen to show the window on?
if [ "$use_xvfb" -eq 0 ] && [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  die "no display found (neither DISPLAY nor WAYLAND_DISPLAY is set). On a machine without one, run
       'scripts/run.sh --xvfb' to start Sage under a virtual display (Xvfb, installed for you)."
fi

# Only what building needs, plus Xvfb when asked for: the test-only packages are test.sh's.
if [ "$use_xvfb" -eq 1 ]; then ensure_apt xvfb xauth; else ensure_apt; fi
ensure_rust
ensure_venv
ensure_npm
ensure_sidecar_built
ensure_web_built
build_app

# Dev mode: the shell runs `python -m sage_sidecar` from the venv, so Python edits need no refreeze.
[ "$frozen" -eq 1 ] || export SAGE_SIDECAR_PYTHON="$PY"

if [ "$demo" -eq 1 ]; then
  export SAGE_DATA_DIR="${SAGE_DATA_DIR:-$CACHE_DIR/demo-data}"  # keep the demo out of real data
  demo_out="$(mktemp)"
  "$PY" -m sage_sidecar.demo.scripted > "$demo_out" 2>/dev/null &
  demo_pid=$!
  trap 'kill "$demo_pid" 2>/dev/null; rm -f "$demo_out"' EXIT
  for _ in $(seq 100); do grep -q SCRIPTED_READY "$demo_out" && break; sleep 0.1; done
  demo_port="$(sed -n 's/^SCRIPTED_READY //p' "$demo_out")"
  [ -n "$demo_port" ] || die "the scripted demo model did not start"
  export SAGE_DEMO_PROVIDER_URL="http://127.0.0.1:$demo_port/v1"
  log "demo model on 127.0.0.1:$demo_port (provider \"Demo (scripted)\"); data in $SAGE_DATA_DIR"
fi

logs="${SAGE_DATA_DIR:-<data dir>}/logs/"
if [ "$use_xvfb" -eq 1 ]; then
  log "launching Sage under Xvfb (Ctrl+C to quit); logs: $logs"
  xvfb-run -a -s "-screen 0 1280x800x24" "$APP_BIN"
else
  log "launching Sage; logs: $logs"
  "$APP_BIN"
fi
