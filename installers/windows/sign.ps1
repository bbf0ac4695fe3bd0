# The code-signing hook: signs the given files (the frozen programs' .exe files before they go
# into an MSI, then the MSIs) with signtool, SHA-256 and an RFC 3161 timestamp.
#   installers\windows\sign.ps1 -Path dist\telework-viewer\telework-viewer.exe, ...
# The certificate comes from the environment (CI secrets), one of:
#   TELEWORK_SIGN_THUMBPRINT      a certificate in the machine's store (e.g. on a hardware token)
#   TELEWORK_SIGN_PFX (base64) and TELEWORK_SIGN_PFX_PASSWORD
# Neither set: nothing is signed and the script says so (a test build); TELEWORK_SIGN_REQUIRED=1
# makes that an error (release builds).
param([Parameter(Mandatory = $true)][string[]]$Path)
$ErrorActionPreference = "Stop"
$timestamp = if ($env:TELEWORK_SIGN_TIMESTAMP_URL) { $env:TELEWORK_SIGN_TIMESTAMP_URL } else { "http://timestamp.digicert.com" }

$signtool = Get-ChildItem "${env:ProgramFiles(x86)}\Windows Kits\10\bin\*\x64\signtool.exe" -ErrorAction SilentlyContinue |
    Sort-Object FullName -Descending | Select-Object -First 1
if ($env:TELEWORK_SIGN_THUMBPRINT) {
    $certificate = @("/sha1", $env:TELEWORK_SIGN_THUMBPRINT)
} elseif ($env:TELEWORK_SIGN_PFX) {
    $pfx = Join-Path ([System.IO.Path]::GetTempPath()) "telework-sign.pfx"
    [System.IO.File]::WriteAllBytes($pfx, [Convert]::FromBase64String($env:TELEWORK_SIGN_PFX))
    $certificate = @("/f", $pfx, "/p", $env:TELEWORK_SIGN_PFX_PASSWORD)
} else {
    if ($env:TELEWORK_SIGN_REQUIRED -eq "1") { throw "no signing certificate configured" }
    Write-Host "sign.ps1: no certificate configured; left unsigned: $($Path -join ', ')"
    exit 0
}
if (-not $signtool) { throw "signtool.exe not found (Windows SDK)" }
try {
    & $signtool.FullName sign /fd SHA256 /tr $timestamp /td SHA256 /d "Telework" @certificate @Path
    if ($LASTEXITCODE -ne 0) { throw "signtool failed ($LASTEXITCODE)" }
    & $signtool.FullName verify /pa @Path
    if ($LASTEXITCODE -ne 0) { throw "signature check failed ($LASTEXITCODE)" }
} finally {
    if ($pfx) { Remove-Item -Force -ErrorAction SilentlyContinue $pfx }
}
