<#
.SYNOPSIS
  Build Sage Desktop's Windows installers (.msi and NSIS .exe). The Windows twin of scripts/build.sh.

.DESCRIPTION
  Steps: freeze the sidecar (PyInstaller, src-python/sage_sidecar.spec) and build its launcher
  (static C runtime: no VC++ redistributable needed), build the UI (vite), then `tauri build` once
  per bundle (the MSI embeds the offline WebView2 installer, the NSIS .exe the bootstrapper).
  The release-time settings - updater public key and feed (SAGE_UPDATER_PUBKEY,
  SAGE_UPDATER_ENDPOINT), signed updater artifacts (TAURI_SIGNING_PRIVATE_KEY), Authenticode
  (SAGE_WINDOWS_CERT_THUMBPRINT, a certificate in the user's store), the numeric MSI version of
  a pre-release - are written by scripts/release_config.py to a file passed with --config:
  PowerShell strips the quotes of inline JSON passed to tauri.cmd. Empty variables count as
  unset. The version comes from Cargo.toml (scripts/version.py). See docs/release.md.

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
  # crt-static: the launcher must start on a clean Windows without VCRUNTIME140.dll.
  Invoke-Checked "rustc: building the sidecar launcher for $triple" {
    rustc --edition 2021 -C opt-level=s -C strip=symbols -C target-feature=+crt-static -o (Join-Path $Root "src-tauri\binaries\sage-sidecar-$triple.exe") (Join-Path $Root 'src-tauri\launcher\sidecar_launcher.rs')
  }
}

function Build-Web {
  Push-Location (Join-Path $Root 'web')
  try {
    Invoke-Checked 'npm: installing web dependencies' { npm ci --no-audit --no-fund --loglevel=error }
    Invoke-Checked 'web: building the UI' { npm run build }
  } finally { Pop-Location }
}

# An unset secret reaches a GitHub job as an empty variable, which the Tauri bundler takes as set.
function Clear-EmptyVariables {
  foreach ($name in 'TAURI_SIGNING_PRIVATE_KEY', 'TAURI_SIGNING_PRIVATE_KEY_PASSWORD', 'SAGE_UPDATER_PUBKEY',
    'SAGE_UPDATER_ENDPOINT', 'SAGE_UPDATER_PREVIOUS_PUBKEY', 'SAGE_WINDOWS_CERT_THUMBPRINT') {
    if (-not [Environment]::GetEnvironmentVariable($name)) { Remove-Item "Env:$name" -ErrorAction SilentlyContinue }
  }
  # Windows cannot hold an empty variable, so a key without a password cannot be told apart from
  # a missing password: the release key must have one (docs/release.md).
  if ($env:TAURI_SIGNING_PRIVATE_KEY -and -not $env:TAURI_SIGNING_PRIVATE_KEY_PASSWORD) {
    throw 'TAURI_SIGNING_PRIVATE_KEY is set without TAURI_SIGNING_PRIVATE_KEY_PASSWORD (the release key needs a password)'
  }
}

function Build-App {
  Clear-EmptyVariables
  $python = if ($env:SAGE_SYSTEM_PYTHON) { $env:SAGE_SYSTEM_PYTHON } else { 'python' }
  $tauri = Join-Path $Root 'web\node_modules\.bin\tauri.cmd'
  $buildProfile = if ($DebugBuild) { 'debug' } else { 'release' }
  $bundleDir = Join-Path $env:CARGO_TARGET_DIR "$buildProfile\bundle"
  if (-not $env:TAURI_SIGNING_PRIVATE_KEY) { Write-Warning 'TAURI_SIGNING_PRIVATE_KEY is not set; building without signed updater artifacts' }
  if (-not $env:SAGE_WINDOWS_CERT_THUMBPRINT) { Write-Warning 'SAGE_WINDOWS_CERT_THUMBPRINT is not set; the installers are not Authenticode-signed' }
  foreach ($bundle in ($Bundles -split ',' | ForEach-Object { $_.Trim() } | Where-Object { $_ })) {
    # One overlay file per bundle: the WebView2 install mode differs (scripts/release_config.py).
    $overlay = Join-Path $Cache "release-$bundle.conf.json"
    Invoke-Checked "release config for $bundle" {
      & $python (Join-Path $Root 'scripts\release_config.py') --os windows --bundle $bundle --out $overlay | Out-Null
    }
    $arguments = @('build', '--ci', '--bundles', $bundle, '--config', $overlay)
    if ($DebugBuild) { $arguments += '--debug' }
    Push-Location $Root
    try { Invoke-Checked "tauri: building $bundle" { & $tauri @arguments } } finally { Pop-Location }
  }
  if ($env:TAURI_SIGNING_PRIVATE_KEY) {
    $signed = @(Get-ChildItem $bundleDir -Recurse -Filter *.sig | ForEach-Object { $_.FullName -replace '\.sig$', '' })
    if ($signed.Count -eq 0) { throw "no updater signatures under $bundleDir" }
    Invoke-Checked 'updater: checking every updater signature against the embedded public key' {
      # During a key rotation the installed apps still hold the previous key (docs/release.md).
      $signingKey = if ($env:SAGE_UPDATER_PREVIOUS_PUBKEY) { $env:SAGE_UPDATER_PREVIOUS_PUBKEY } else { $env:SAGE_UPDATER_PUBKEY }
      & $Py (Join-Path $Root 'scripts\updater_key.py') verify --pubkey $signingKey @signed
    }
  }
  Get-ChildItem $bundleDir -Recurse -Include *.msi, *.exe, *.sig |
    ForEach-Object { '{0,8:N1} MB  {1}' -f ($_.Length / 1MB), $_.FullName }
}

switch ($Step) {
  'sidecar' { Build-Sidecar }
  'web' { Build-Web }
  'app' { Build-App }
  'all' { Build-Sidecar; Build-Web; Build-App }
}
