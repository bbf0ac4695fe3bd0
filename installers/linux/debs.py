"""Debian packages of the Telework programs, made with ``dpkg-deb`` from the frozen folders.

Each package puts its program's folder under ``/opt/telework/<name>`` and adds what the system
needs around it: ``/usr/bin`` commands, the relay's systemd unit and user, the desktop and
autostart entries, icons, and the debconf questions that write the preset file
(``/etc/telework/viewer.json``, ``host.json``). The maintainer scripts are the files in
``installers/linux/debian/``. ``Depends`` lists the system libraries the folder links to but
does not carry (read with ``objdump -p``, found with ``ldconfig -p``, owned per ``dpkg -S``)
plus the ones the programs open by name at run time.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sysconfig
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

LINUX = Path(__file__).resolve().parent
ROOT = LINUX.parents[1]
SCRIPTS = LINUX / "debian"
RESOURCES = ROOT / "resources"
MAINTAINER = "Telework project <telework@example.lg.jp>"
HOMEPAGE = "https://example.lg.jp/telework"
PRESET_PACKAGE = "telework-preset"
# The Qt apps show Japanese: a CJK font, whichever the system has.
CJK_FONTS = ("fonts-noto-cjk | fonts-ipafont-gothic | fonts-vlgothic",)
# dpkg-deb's compressions, for the viewer's 297 MB on this 2-core machine: xz -1 81 MB in
# ~30 s (the default), xz -6 71 MB in ~4 min (smallest), gzip -1 110 MB in ~7 s (CI).
COMPRESSIONS = {
    "xz-fast": ["-Zxz", "-z1"],
    "xz": ["-Zxz", "-z6"],
    "gzip": ["-Zgzip", "-z1"],
    "none": ["-Znone"],
}
ELF_MAGIC = b"\x7fELF"
# Shared libraries are looked up in the machine's cache; objdump gives each file's NEEDED names.
NEEDED = re.compile(r"^\s+NEEDED\s+(\S+)", re.MULTILINE)


@dataclass(frozen=True)
class DebPackage:
    name: str  # also the program's name and its folder in dist/
    summary: str
    description: str
    section: str = "net"
    # Beyond the libraries the folder links to: what the programs open by name (ctypes) or run.
    depends: tuple[str, ...] = ()
    recommends: tuple[str, ...] = ()
    suggests: tuple[str, ...] = ()
    preset: str | None = None  # /etc/telework/<preset> from debconf questions
    desktop: str | None = None  # the .desktop entry of resources/desktop, and where it goes
    user_unit: bool = False
    system_unit: bool = False
    extra_files: dict[str, Path] = field(default_factory=dict)  # path in package -> source

    @property
    def folder(self) -> str:
        return "/opt/telework/" + self.name.removeprefix("telework-")


PACKAGES = {
    p.name: p
    for p in (
        DebPackage(
            "telework-relay",
            "Telework relay: joins home PCs and office PCs",
            "The relay of the screen-transfer telework system: checks logins, asks the office\n"
            "PC, forwards the end-to-end encrypted sessions, and serves the admin API.\n"
            "Runs as the telework user from systemd; data in /var/lib/telework/relay.\n"
            "`telework-relay manage` administers tenants, users and office PCs.",
            depends=("passwd", "util-linux"),
            suggests=("haproxy", "postgresql"),
            system_unit=True,
            extra_files={
                "usr/bin/telework-relay": LINUX / "telework-relay.sh",
                "etc/default/telework-relay": LINUX / "telework-relay.default",
            },
        ),
        DebPackage(
            "telework-host",
            "Telework host agent for the office PC (tray)",
            "Shows the office PC's screen to its staff member at home through the relay and\n"
            "takes their keyboard and mouse. Starts in the tray with the desktop session;\n"
            "a systemd user unit runs it without a tray.",
            section="x11",
            # x11_cursor and mss open these with ctypes.
            depends=("libx11-6", "libxfixes3", "libxrandr2"),
            recommends=CJK_FONTS,
            preset="host.json",
            desktop="etc/xdg/autostart",
            user_unit=True,
        ),
        DebPackage(
            "telework-viewer",
            "Telework viewer for the home PC",
            "Connects to the office PC through the relay with a one-time password and shows\n"
            "its screen. No clipboard, files or printing cross; nothing is kept but the\n"
            "connection settings and this PC's device key.",
            section="x11",
            recommends=CJK_FONTS,
            preset="viewer.json",
            desktop="usr/share/applications",
        ),
        DebPackage(
            "telework-admin",
            "Telework admin console",
            "Staff, one-time passwords, office PCs, grants, policies, usage and bandwidth of\n"
            "the municipalities on a Telework relay.",
            section="x11",
            recommends=CJK_FONTS,
            desktop="usr/share/applications",
        ),
    )
}


def architecture() -> str:
    return subprocess.run(
        ["dpkg", "--print-architecture"], capture_output=True, text=True, check=True
    ).stdout.strip()


# ----- Depends: the system libraries a folder needs ---------------------------------------------


def elf_files(folder: Path) -> list[Path]:
    found = []
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as f:
                if f.read(4) == ELF_MAGIC:
                    found.append(path)
    return found


def needed_libraries(files: list[Path]) -> set[str]:
    """The NEEDED names of ``files`` (one objdump for all of them)."""
    names: set[str] = set()
    for start in range(0, len(files), 200):
        out = subprocess.run(
            ["objdump", "-p", *map(str, files[start : start + 200])],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        names.update(NEEDED.findall(out))
    return names


def system_library_paths() -> dict[str, str]:
    """soname -> path, from the dynamic linker's cache; this architecture's directory first."""
    out = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, check=True).stdout
    multiarch = f"/{sysconfig.get_config_var('MULTIARCH') or ''}/"
    paths: dict[str, str] = {}
    for line in out.splitlines()[1:]:
        name, _, path = line.strip().partition(" => ")
        soname = name.split(" ", 1)[0]
        better = soname in paths and multiarch in path and multiarch not in paths[soname]
        if path and (soname not in paths or better):
            paths[soname] = path
    return paths


def owning_packages(paths: Iterable[str]) -> dict[str, str]:
    """path -> the Debian package that installed it (merged /usr: either spelling)."""
    owners: dict[str, str] = {}
    for path in sorted(set(paths)):
        spellings = [path, os.path.realpath(path)]
        for p in list(spellings):
            if p.startswith("/usr/lib/"):
                spellings.append(p.removeprefix("/usr"))
            elif p.startswith("/lib/"):
                spellings.append("/usr" + p)
        for p in spellings:
            result = subprocess.run(["dpkg", "-S", p], capture_output=True, text=True)
            if result.returncode == 0:
                owners[path] = result.stdout.split(":", 1)[0].split(",")[0].strip()
                break
    return owners


def glibc_version() -> str:
    version = subprocess.run(
        ["dpkg-query", "-W", "-f=${Version}", "libc6"], capture_output=True, text=True, check=True
    ).stdout
    return version.split("-", 1)[0]


def library_depends(folder: Path) -> tuple[list[str], list[str]]:
    """(Debian packages of the libraries ``folder`` links to but lacks, sonames not found)."""
    files = elf_files(folder)
    carried = {p.name for p in folder.rglob("*")}
    wanted = sorted(n for n in needed_libraries(files) if n not in carried)
    system = system_library_paths()
    missing = [n for n in wanted if n not in system]
    owners = owning_packages(system[n] for n in wanted if n in system)
    packages = set(owners.values())
    depends = sorted(p for p in packages if p != "libc6")
    if "libc6" in packages:
        depends.insert(0, f"libc6 (>= {glibc_version()})")
    return depends, missing


# ----- the package tree -------------------------------------------------------------------------


def _copy(source: Path, target: Path, mode: int = 0o644) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    target.chmod(mode)


def _script(name: str, package: DebPackage) -> str | None:
    """A maintainer script or debconf file, its placeholders filled, or None if there is none."""
    own = SCRIPTS / f"{package.name}.{name}"
    shared = SCRIPTS / f"preset.{name}"
    if own.is_file():
        text = own.read_text(encoding="utf-8")
    elif package.preset and shared.is_file():
        text = shared.read_text(encoding="utf-8")
    else:
        return None
    return text.replace("@PACKAGE@", package.name).replace("@PRESET@", package.preset or "")


def stage(package: DebPackage, frozen: Path, root: Path) -> None:
    """Lay out ``package``'s files under ``root`` (DEBIAN/ control files excepted)."""
    if root.exists():
        shutil.rmtree(root)
    folder = root / package.folder.lstrip("/")
    shutil.copytree(frozen, folder, symlinks=True)
    for path in [folder, *folder.rglob("*")]:
        if path.is_symlink():
            continue
        if path.is_dir():
            path.chmod(0o755)
        else:
            path.chmod(0o755 if os.access(path, os.X_OK) else 0o644)
    command = root / "usr" / "bin" / package.name
    if f"usr/bin/{package.name}" not in package.extra_files:
        command.parent.mkdir(parents=True, exist_ok=True)
        command.symlink_to(f"{package.folder}/{package.name}")
    for inside, source in package.extra_files.items():
        _copy(source, root / inside, 0o755 if os.access(source, os.X_OK) else 0o644)
    unit = f"{package.name}.service"
    if package.system_unit:
        _copy(LINUX / unit, root / "lib/systemd/system" / unit)
    if package.user_unit:
        _copy(LINUX / unit, root / "usr/lib/systemd/user" / unit)
    if package.desktop:
        entry = f"{package.name}.desktop"
        _copy(RESOURCES / "desktop" / entry, root / package.desktop / entry)
        icon = f"{package.name}.svg"
        _copy(RESOURCES / "icons" / icon, root / "usr/share/icons/hicolor/scalable/apps" / icon)
    doc = root / "usr/share/doc" / package.name
    doc.mkdir(parents=True, exist_ok=True)
    (doc / "copyright").write_text(
        "Telework: secure screen transfer for local-government offices.\n"
        "License: proprietary (LicenseRef-Proprietary); the bundled libraries keep their own\n"
        f"licenses, in {package.folder}/_internal.\n",
        encoding="utf-8",
    )


def installed_size_kib(root: Path) -> int:
    total = 0
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink() and "DEBIAN" not in path.parts:
            total += (path.stat().st_size + 1023) // 1024
    return total


def control_text(fields: dict[str, str]) -> str:
    lines = []
    for key, value in fields.items():
        if not value:
            continue
        first, *rest = value.split("\n")
        lines.append(f"{key}: {first}")
        lines.extend(f" {line}" if line.strip() else " ." for line in rest)
    return "\n".join(lines) + "\n"


def write_control(
    root: Path, package: DebPackage, version: str, arch: str, depends: list[str]
) -> None:
    debian = root / "DEBIAN"
    debian.mkdir(parents=True, exist_ok=True)
    all_depends = [*depends, *package.depends]
    if package.preset:
        all_depends.append("debconf (>= 0.5) | debconf-2.0")
    fields = {
        "Package": package.name,
        "Version": version,
        "Architecture": arch,
        "Maintainer": MAINTAINER,
        "Installed-Size": str(installed_size_kib(root)),
        "Depends": ", ".join(dict.fromkeys(all_depends)),
        "Recommends": ", ".join(package.recommends),
        "Suggests": ", ".join(package.suggests),
        "Section": package.section,
        "Priority": "optional",
        "Homepage": HOMEPAGE,
        "Description": f"{package.summary}\n{package.description}",
    }
    (debian / "control").write_text(control_text(fields), encoding="utf-8")
    for name in ("preinst", "postinst", "prerm", "postrm", "config", "templates"):
        text = _script(name, package)
        if text is not None:
            (debian / name).write_text(text, encoding="utf-8")
            (debian / name).chmod(0o644 if name == "templates" else 0o755)
    etc = root / "etc"
    files = sorted(p for p in etc.rglob("*") if p.is_file()) if etc.is_dir() else []
    conffiles = ["/" + str(p.relative_to(root)) for p in files]
    if conffiles:
        (debian / "conffiles").write_text("\n".join(conffiles) + "\n", encoding="utf-8")
    sums = []
    for path in sorted(root.rglob("*")):
        inside = path.relative_to(root)
        if path.is_file() and not path.is_symlink() and inside.parts[0] != "DEBIAN":
            digest = hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()
            sums.append(f"{digest}  {inside}")
    (debian / "md5sums").write_text("\n".join(sums) + "\n", encoding="utf-8")


def build_deb(root: Path, out_dir: Path, compression: str) -> Path:
    control = (root / "DEBIAN" / "control").read_text(encoding="utf-8")
    meta = dict(
        line.split(": ", 1) for line in control.splitlines() if ": " in line and line[0] != " "
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"{meta['Package']}_{meta['Version']}_{meta['Architecture']}.deb"
    subprocess.run(
        [
            "dpkg-deb",
            "--root-owner-group",
            *COMPRESSIONS[compression],
            "--build",
            str(root),
            str(out),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return out


def build_package(
    name: str, frozen: Path, version: str, out_dir: Path, work: Path, compression: str = "xz-fast"
) -> Path:
    """The .deb of program ``name`` from its frozen folder; written to ``out_dir``."""
    package = PACKAGES[name]
    root = work / name
    stage(package, frozen, root)
    depends, missing = library_depends(frozen)
    if missing:
        print(f"{name}: not found on this machine, left out of Depends: {', '.join(missing)}")
    write_control(root, package, version, architecture(), depends)
    return build_deb(root, out_dir, compression)


def build_preset_package(
    relay: str, fingerprint: str, tenant: str, version: str, out_dir: Path, work: Path
) -> Path:
    """``telework-preset``: /etc/telework/viewer.json and host.json for a site, as conffiles
    (instead of the debconf questions; the apps' packages then leave these files alone)."""
    root = work / PRESET_PACKAGE
    if root.exists():
        shutil.rmtree(root)
    preset = json.dumps({"relay": relay, "fingerprint": fingerprint, "tenant": tenant}, indent=2)
    for file in ("viewer.json", "host.json"):
        path = root / "etc/telework" / file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(preset + "\n", encoding="utf-8")
        path.chmod(0o644)
    debian = root / "DEBIAN"
    debian.mkdir()
    fields = {
        "Package": PRESET_PACKAGE,
        "Version": version,
        "Architecture": "all",
        "Maintainer": MAINTAINER,
        "Installed-Size": "8",
        "Section": "net",
        "Priority": "optional",
        "Description": f"Telework preset for {tenant or 'this site'}: relay {relay}\n"
        "The relay address, its certificate fingerprint and the tenant, for the viewer\n"
        "and the host agent (/etc/telework/viewer.json, host.json).",
    }
    (debian / "control").write_text(control_text(fields), encoding="utf-8")
    (debian / "conffiles").write_text(
        "/etc/telework/host.json\n/etc/telework/viewer.json\n", encoding="utf-8"
    )
    return build_deb(root, out_dir, "xz")
