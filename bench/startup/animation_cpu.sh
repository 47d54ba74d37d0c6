#!/usr/bin/env bash
# The CPU an endless CSS animation costs WebKitGTK without a GPU (Xvfb here; VMs and machines
# without GL acceleration alike): each variant of the start-up indicators is shown alone in
# WebKitGTK's MiniBrowser for a few seconds, and the web process's CPU time over that window is
# printed. At launch this CPU is taken from the sidecar starting on the same cores.
# Usage: bench/startup/animation_cpu.sh [SECONDS]  (needs xvfb-run and WebKitGTK's MiniBrowser)
set -euo pipefail
seconds="${1:-4}"
browser=$(ls /usr/lib/*/webkit2gtk-4.1/MiniBrowser 2>/dev/null | head -1)
[ -x "$browser" ] || { echo "WebKitGTK's MiniBrowser not found" >&2; exit 1; }
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
page() { # name, style of the indicator
  printf '<html><body style="margin:0;height:100vh;display:grid;place-items:center">
<style>@keyframes pulse{from{opacity:1;transform:scale(1)}to{opacity:.35;transform:scale(.7)}}
@keyframes spin{to{transform:rotate(360deg)}}
.dot{width:8px;height:8px;border-radius:50%%;background:#2f6f5e}
.ring{width:28px;height:28px;border-radius:50%%;border:3px solid #dfe4e1;border-top-color:#2f6f5e}</style>
<span style="%s"></span></body></html>' "$2" > "$work/$1.html"
}
page static 'display:block'
page spinner-smooth 'display:block;width:28px;height:28px;border-radius:50%;border:3px solid #dfe4e1;border-top-color:#2f6f5e;animation:spin .8s linear infinite'
page spinner-8-steps 'display:block;width:28px;height:28px;border-radius:50%;border:3px solid #dfe4e1;border-top-color:#2f6f5e;animation:spin .8s steps(8) infinite'
page pulse-smooth 'display:block;width:8px;height:8px;border-radius:50%;background:#2f6f5e;animation:pulse .9s ease-in-out infinite alternate'
page pulse-5-steps 'display:block;width:8px;height:8px;border-radius:50%;background:#2f6f5e;animation:pulse .9s steps(5) infinite alternate'
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; } # clock ticks (1/100 s)
measure() {
  "$browser" --geometry=1280x800 "file://$work/$1.html" >/dev/null 2>&1 &
  local ui=$! web=""
  sleep 2 # loaded and painted once
  web=$(pgrep -P "$ui" -f WebKitWebProcess | head -1)
  [ -n "$web" ] || { kill "$ui"; echo "$1: no web process found" >&2; return; }
  local before after
  before=$(cpu "$web"); sleep "$seconds"; after=$(cpu "$web")
  kill "$ui"; wait "$ui" 2>/dev/null || true
  printf '%-16s web process %4d ms CPU per second shown\n' "$1" $(( (after - before) * 10 / seconds ))
}
if [ -z "${DISPLAY:-}" ]; then exec xvfb-run -a -s "-screen 0 1280x800x24" "$0" "$seconds"; fi
for name in static spinner-smooth spinner-8-steps pulse-smooth pulse-5-steps; do measure "$name"; done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
