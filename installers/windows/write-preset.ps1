# Writes the preset a Telework app reads (%ProgramData%\telework\viewer.json or host.json) from
# the MSI's RELAY, FINGERPRINT and TENANT properties. Run by the MSI (deferred, as SYSTEM);
# refuses values that are not a relay address, a SHA-256 fingerprint or a tenant name, so that
# nothing else can end up in the file.
param(
    [Parameter(Mandatory = $true)][string]$Path,
    [Parameter(Mandatory = $true)][string]$Relay,
    [string]$Fingerprint = "",
    [string]$Tenant = ""
)
$ErrorActionPreference = "Stop"
$Fingerprint = ($Fingerprint -replace "[:\s]", "").ToLowerInvariant()
if ($Relay -notmatch '^[][A-Za-z0-9.:-]+:[0-9]+$') { throw "RELAY must be HOST:PORT, not '$Relay'" }
if ($Fingerprint -notmatch '^[0-9a-f]{64}$') { throw "FINGERPRINT must be 64 hex digits" }
if ($Tenant -notmatch '^[A-Za-z0-9._-]*$') { throw "TENANT '$Tenant' is not a tenant name" }

$folder = Split-Path -Parent $Path
New-Item -ItemType Directory -Force -Path $folder | Out-Null
$json = [ordered]@{ relay = $Relay; fingerprint = $Fingerprint; tenant = $Tenant } | ConvertTo-Json
# UTF-8 without a byte-order mark, as the apps read it; replaced in one step.
$temporary = "$Path.new"
[System.IO.File]::WriteAllText($temporary, $json + "`n", (New-Object System.Text.UTF8Encoding $false))
Move-Item -Force -Path $temporary -Destination $Path
