#!/usr/bin/env bash
# Install whatever is missing, build, and launch Sage Desktop with everything wired.
#
#   scripts/run.sh           run in this desktop session
#   scripts/run.sh --xvfb    run under a virtual display (for machines without one)
#   scripts/run.sh --frozen  use the frozen sidecar instead of the venv (what installers ship)
#
# Data goes to the normal per-user data dir unless SAGE_DATA_DIR is set.
source "$(dirname "$0")/lib.sh"

use_xvfb=0; frozen=0
for arg in "$@"; do
  case "$arg" in
    --xvfb) use_xvfb=1 ;;
    --frozen) frozen=1 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) die "unknown option $arg (see --help)" ;;
  esac
done

ensure_apt
ensure_rust
ensure_venv
ensure_npm
ensure_sidecar_built
ensure_web_built
build_app

# Dev mode: the shell runs `python -m sage_sidecar` from the venv, so Python edits need no refreeze.
[ "$frozen" -eq 1 ] || export SAGE_SIDECAR_PYTHON="$PY"

if [ "$use_xvfb" -eq 1 ]; then
  log "launching Sage under Xvfb (Ctrl+C to quit); logs: ${SAGE_DATA_DIR:-<data dir>}/logs/"
  exec xvfb-run -a -s "-screen 0 1280x800x24" "$APP_BIN"
fi
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  die "no display found. Run 'scripts/run.sh --xvfb' to start Sage under a virtual display."
fi
log "launching Sage"
exec "$APP_BIN"
