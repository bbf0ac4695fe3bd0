"""``./run package``: the frozen programs (PyInstaller) and their Debian packages, into dist/.

    python -m installers.build [--apps telework-viewer,telework-host,...] [--no-freeze]
                               [--no-deb] [--version V] [--compression xz-fast|xz|gzip|none]
    python -m installers.build preset --relay HOST:PORT --fingerprint FP --tenant T [--version V]

Leaves ``dist/<app>/<app>`` (one folder per program, ``installers/pyinstaller/telework.spec``),
``dist/<app>_<version>_<arch>.deb`` (``installers/linux/debs.py``) and
``dist/build-report.json`` (build times, folder and package sizes). ``preset`` makes only the
site's configuration package (``telework-preset``: viewer.json and host.json).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DIST = ROOT / "dist"
WORK = ROOT / "build"
SPEC = ROOT / "installers" / "pyinstaller" / "telework.spec"
APPS = ("telework-viewer", "telework-host", "telework-admin", "telework-relay")
REPORT = "build-report.json"


def project_version() -> str:
    with (ROOT / "pyproject.toml").open("rb") as f:
        return str(tomllib.load(f)["project"]["version"])


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def freeze(apps: list[str], dist: Path) -> float:
    """Run the spec for ``apps`` (one PyInstaller run); the seconds it took."""
    if sys.platform == "win32":  # pragma: no cover - the Windows recipe
        windows_resources(apps)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.monotonic()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--log-level",
            "WARN",
            "--distpath",
            str(dist),
            "--workpath",
            str(WORK / "pyinstaller"),
            str(SPEC),
            "--",
            "--apps",
            ",".join(apps),
        ],
        check=True,
        cwd=ROOT,
        env=env,
    )
    return time.monotonic() - started


def windows_resources(apps: list[str]) -> None:  # pragma: no cover - run on Windows only
    """The .ico files (from resources/icons/*.svg, drawn by Qt) and version resources the
    spec gives the Windows executables."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication, QIcon

    app = QGuiApplication.instance() or QGuiApplication([])
    icons = WORK / "icons"
    icons.mkdir(parents=True, exist_ok=True)
    for name in apps:
        svg = ROOT / "resources" / "icons" / f"{name}.svg"
        if svg.is_file():
            QIcon(str(svg)).pixmap(256, 256).save(str(icons / f"{name}.ico"))
    del app
    numbers = [*map(int, project_version().split(".")[:3]), 0]
    versions = WORK / "version"
    versions.mkdir(parents=True, exist_ok=True)
    for name in apps:
        (versions / f"{name}.txt").write_text(
            VERSION_RESOURCE.format(numbers=tuple(numbers), text=project_version(), name=name),
            encoding="utf-8",
        )


VERSION_RESOURCE = """VSVersionInfo(
  ffi=FixedFileInfo(filevers={numbers}, prodvers={numbers}),
  kids=[
    StringFileInfo([StringTable('041104B0', [
      StringStruct('CompanyName', 'Telework project'),
      StringStruct('FileDescription', '{name}'),
      StringStruct('FileVersion', '{text}'),
      StringStruct('ProductName', 'Telework'),
      StringStruct('ProductVersion', '{text}')])]),
    VarFileInfo([VarStruct('Translation', [0x0411, 1200])])
  ]
)
"""


def build_debs(
    apps: list[str], dist: Path, version: str, compression: str
) -> tuple[list[Path], float]:
    from installers.linux.debs import build_package

    started = time.monotonic()
    debs = []
    for name in apps:
        frozen = dist / name
        if not (frozen / name).is_file():
            raise SystemExit(f"{frozen / name} is missing: build it first (without --no-freeze)")
        debs.append(build_package(name, frozen, version, dist, WORK / "deb", compression))
    return debs, time.monotonic() - started


def write_report(dist: Path, report: dict[str, object]) -> None:
    path = dist / REPORT
    old = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    path.write_text(json.dumps({**old, **report}, indent=2) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["preset"]:
        return preset_main(argv[1:])
    parser = argparse.ArgumentParser(prog="./run package", description=__doc__.split("\n")[0])
    parser.add_argument("--apps", default=",".join(APPS), help="comma-separated program names")
    parser.add_argument("--no-freeze", action="store_true", help="reuse the folders in dist/")
    parser.add_argument("--no-deb", action="store_true", help="only the frozen folders")
    parser.add_argument("--version", default=None, help="package version (default: pyproject's)")
    parser.add_argument(
        "--compression",
        choices=("xz-fast", "xz", "gzip", "none"),
        default="xz-fast",
        help="of the .deb files: xz -1 (default), xz -6 (smallest, minutes), gzip -1, none",
    )
    parser.add_argument("--dist", type=Path, default=DIST)
    args = parser.parse_args(argv)
    apps = [a.strip() for a in args.apps.split(",") if a.strip()]
    unknown = sorted(set(apps) - set(APPS))
    if unknown:
        parser.error(f"unknown programs: {', '.join(unknown)} (known: {', '.join(APPS)})")
    version = args.version or project_version()
    report: dict[str, object] = {"version": version}
    if not args.no_freeze:
        seconds = freeze(apps, args.dist)
        report["freeze_seconds"] = round(seconds, 1)
        report["frozen_apps"] = apps
        print(f"froze {', '.join(apps)} in {seconds:.0f} s")
    folders = {name: folder_bytes(args.dist / name) for name in apps if (args.dist / name).is_dir()}
    report["folder_bytes"] = folders
    if not args.no_deb and sys.platform.startswith("linux"):
        debs, seconds = build_debs(apps, args.dist, version, args.compression)
        report["deb_seconds"] = round(seconds, 1)
        report["deb_compression"] = args.compression
        report["deb_bytes"] = {deb.name: deb.stat().st_size for deb in debs}
        for deb in debs:
            print(
                f"{deb.relative_to(ROOT) if deb.is_relative_to(ROOT) else deb}: "
                f"{deb.stat().st_size / 1e6:.0f} MB"
            )
        print(f"packaged in {seconds:.0f} s ({args.compression})")
    for name, size in folders.items():
        print(f"dist/{name}: {size / 1e6:.0f} MB")
    write_report(args.dist, report)
    return 0


def preset_main(argv: list[str]) -> int:
    from installers.linux.debs import build_preset_package

    parser = argparse.ArgumentParser(
        prog="./run package preset",
        description="the site's configuration package: /etc/telework/viewer.json and host.json",
    )
    parser.add_argument("--relay", required=True, help="HOST:PORT")
    parser.add_argument("--fingerprint", required=True, help="the relay's SHA-256 fingerprint")
    parser.add_argument("--tenant", default="")
    parser.add_argument("--version", default="1")
    parser.add_argument("--dist", type=Path, default=DIST)
    args = parser.parse_args(argv)
    deb = build_preset_package(
        args.relay, args.fingerprint, args.tenant, args.version, args.dist, WORK / "deb"
    )
    print(deb)
    return 0


if __name__ == "__main__":
    sys.exit(main())
