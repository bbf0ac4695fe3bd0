# Builds one MSI per app from the frozen folders in dist\ (python -m installers.build --no-deb
# first), with WiX 5 and its Util extension:
#   dotnet tool install --global wix --version 5.0.2
#   wix extension add -g WixToolset.Util.wixext/5.0.2
#   installers\windows\build-msi.ps1 [-Apps telework-viewer,telework-host] [-Version 0.1.0]
param(
    [string[]]$Apps = @("telework-viewer", "telework-host", "telework-admin"),
    [string]$Version = ""
)
$ErrorActionPreference = "Stop"
$root = Resolve-Path (Join-Path $PSScriptRoot "..\..")
if (-not $Version) {
    $Version = (Select-String -Path (Join-Path $root "pyproject.toml") -Pattern '^version = "(.+)"').Matches[0].Groups[1].Value
}
foreach ($app in $Apps) {
    $folder = Join-Path $root "dist\$app"
    if (-not (Test-Path (Join-Path $folder "$app.exe"))) { throw "$folder\$app.exe is missing" }
    $msi = Join-Path $root "dist\$app-$Version-x64.msi"
    wix build (Join-Path $PSScriptRoot "$app.wxs") -arch x64 -d "Version=$Version" `
        -bindpath "App=$folder" -bindpath "Scripts=$PSScriptRoot" `
        -ext WixToolset.Util.wixext -o $msi
    if ($LASTEXITCODE -ne 0) { throw "wix build failed for $app" }
    Write-Host "$msi ($([math]::Round((Get-Item $msi).Length / 1MB)) MB)"
}
