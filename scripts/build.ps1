<#
.SYNOPSIS
  Build Sage Desktop's Windows installers (.msi and NSIS .exe). The Windows twin of scripts/build.sh.

.DESCRIPTION
  Steps: freeze the sidecar (PyInstaller, src-python/sage_sidecar.spec) and build its launcher,
  build the UI (vite), then `tauri build`. The version comes from Cargo.toml (scripts/version.py).
  Updater artifacts are signed when TAURI_SIGNING_PRIVATE_KEY is set; the installers are
  Authenticode-signed when SAGE_WINDOWS_CERT_THUMBPRINT names a certificate in the user's store
  (the release workflow imports it from secrets). See docs/release.md.

.EXAMPLE
  ./scripts/build.ps1                      # everything, release
  ./scripts/build.ps1 -Step sidecar        # only the frozen sidecar + launcher
  ./scripts/build.ps1 -Step app -Bundles msi
#>
param(
  [ValidateSet('all', 'sidecar', 'web', 'app')] [string] $Step = 'all',
  [string] $Bundles = 'msi,nsis',
  [switch] $DebugBuild
)
$ErrorActionPreference = 'Stop'
$Root = Split-Path -Parent $PSScriptRoot
$Cache = if ($env:SAGE_CACHE_DIR) { $env:SAGE_CACHE_DIR } else { Join-Path $env:LOCALAPPDATA 'sage-desktop' }
if (-not $env:CARGO_TARGET_DIR) { $env:CARGO_TARGET_DIR = Join-Path $Cache 'target' }
$Venv = Join-Path $Root '.venv'
$Py = Join-Path $Venv 'Scripts\python.exe'

function Invoke-Checked([string] $What, [scriptblock] $Block) {
  Write-Host "==> $What"
  & $Block
  if ($LASTEXITCODE -ne 0) { throw "$What failed (exit code $LASTEXITCODE)" }
}

function Initialize-Venv {
  $python = if ($env:SAGE_SYSTEM_PYTHON) { $env:SAGE_SYSTEM_PYTHON } else { 'python' }
  Invoke-Checked 'python: stamping the version' { & $python (Join-Path $Root 'scripts\version.py') --stamp }
  if (-not (Test-Path $Py)) { Invoke-Checked 'python: creating .venv' { & $python -m venv $Venv } }
  Invoke-Checked 'python: installing the sidecar' { & $Py -m pip install -q -e "$Root\src-python[dev]" }
}

function Build-Sidecar {
  Initialize-Venv
  Push-Location (Join-Path $Root 'src-python')
  try {
    Invoke-Checked 'pyinstaller: freezing the sidecar (onedir)' {
      & $Py -m PyInstaller --noconfirm --log-level WARN --distpath dist --workpath (Join-Path $Cache 'pyinstaller') sage_sidecar.spec
    }
  } finally { Pop-Location }
  $triple = (rustc -vV | Select-String '^host: (.+)$').Matches[0].Groups[1].Value
  New-Item -ItemType Directory -Force (Join-Path $Root 'src-tauri\binaries') | Out-Null
  Invoke-Checked "rustc: building the sidecar launcher for $triple" {
    rustc --edition 2021 -C opt-level=s -C strip=symbols -o (Join-Path $Root "src-tauri\binaries\sage-sidecar-$triple.exe") (Join-Path $Root 'src-tauri\launcher\sidecar_launcher.rs')
  }
}

function Build-Web {
  Push-Location (Join-Path $Root 'web')
  try {
    Invoke-Checked 'npm: installing web dependencies' { npm ci --no-audit --no-fund --loglevel=error }
    Invoke-Checked 'web: building the UI' { npm run build }
  } finally { Pop-Location }
}

function Build-App {
  $arguments = @('build', '--ci', '--bundles', $Bundles)
  if ($DebugBuild) { $arguments += '--debug' }
  if ($env:TAURI_SIGNING_PRIVATE_KEY) {
    $arguments += @('--config', '{"bundle":{"createUpdaterArtifacts":true}}')
  } else {
    Write-Warning 'TAURI_SIGNING_PRIVATE_KEY is not set; building without signed updater artifacts'
  }
  if ($env:SAGE_WINDOWS_CERT_THUMBPRINT) {
    $signing = @{ bundle = @{ windows = @{
      certificateThumbprint = $env:SAGE_WINDOWS_CERT_THUMBPRINT
      digestAlgorithm = 'sha256'
      timestampUrl = 'http://timestamp.digicert.com'
    } } } | ConvertTo-Json -Depth 5 -Compress
    $arguments += @('--config', $signing)
  } else {
    Write-Warning 'SAGE_WINDOWS_CERT_THUMBPRINT is not set; the installers are not Authenticode-signed'
  }
  $tauri = Join-Path $Root 'web\node_modules\.bin\tauri.cmd'
  Push-Location $Root
  try { Invoke-Checked "tauri: building $Bundles" { & $tauri @arguments } } finally { Pop-Location }
  $buildProfile = if ($DebugBuild) { 'debug' } else { 'release' }
  Get-ChildItem (Join-Path $env:CARGO_TARGET_DIR "$buildProfile\bundle") -Recurse -Include *.msi, *.exe, *.sig |
    ForEach-Object { '{0,8:N1} MB  {1}' -f ($_.Length / 1MB), $_.FullName }
}

switch ($Step) {
  'sidecar' { Build-Sidecar }
  'web' { Build-Web }
  'app' { Build-App }
  'all' { Build-Sidecar; Build-Web; Build-App }
}
