# Run by the MSI when a Telework app is uninstalled (not when an upgrade removes the old
# version): deletes the preset in %ProgramData%\telework (and the folder when empty) and, with
# -Profiles 1, the app's folder (-UserData, relative to a profile, e.g.
# AppData\Roaming\telework-viewer) in every user profile of this PC, so nothing stays behind.
param(
    [Parameter(Mandatory = $true)][string]$Preset,
    [Parameter(Mandatory = $true)][string]$UserData,
    [string]$Profiles = ""
)
$ErrorActionPreference = "Continue"
Remove-Item -Force -ErrorAction SilentlyContinue -Path $Preset
$folder = Split-Path -Parent $Preset
if ((Test-Path $folder) -and -not (Get-ChildItem -Force $folder)) {
    Remove-Item -Force -ErrorAction SilentlyContinue -Path $folder
}
if ($Profiles -ne "1") { exit 0 }
# Every profile Windows knows of (also those of users not logged in), from the registry.
$list = "HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList"
foreach ($key in Get-ChildItem $list) {
    $profilePath = (Get-ItemProperty -Path $key.PSPath -Name ProfileImagePath -ErrorAction SilentlyContinue).ProfileImagePath
    if (-not $profilePath) { continue }
    $target = Join-Path ([Environment]::ExpandEnvironmentVariables($profilePath)) $UserData
    if (Test-Path -LiteralPath $target) {
        Remove-Item -Recurse -Force -ErrorAction SilentlyContinue -LiteralPath $target
    }
}
exit 0
