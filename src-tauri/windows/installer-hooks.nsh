; Sage's NSIS installer hooks (bundle.windows.nsis.installerHooks in tauri.conf.json).
;
; The sidecar runs from the install folder (the launcher next to sage-desktop.exe, the frozen
; Python under resources\sidecar). Tauri's installer only closes sage-desktop.exe, so a sidecar
; still running would keep its files locked and the update would fail half-way. Before files are
; replaced or removed, stop every sage-sidecar.exe whose image lives under $INSTDIR (and only
; those: another install or user is left alone). These hooks run before Tauri's own
; "is the app running" check.
!macro SAGE_STOP_SIDECAR
  nsExec::ExecToLog `powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -Command "Get-Process -Name sage-sidecar -ErrorAction SilentlyContinue | Where-Object { $$_.Path -and $$_.Path.StartsWith('$INSTDIR\', [StringComparison]::OrdinalIgnoreCase) } | Stop-Process -Force -ErrorAction SilentlyContinue"`
  Pop $0
  Sleep 300
!macroend

!macro NSIS_HOOK_PREINSTALL
  !insertmacro SAGE_STOP_SIDECAR
!macroend

!macro NSIS_HOOK_PREUNINSTALL
  !insertmacro SAGE_STOP_SIDECAR
!macroend
