"""What the viewer remembers, where, and what it reports about this PC.

Qt-free. The viewer writes exactly two things to disk, both in the user's config directory:
``settings.json`` (relay, relay fingerprint, tenant, user, office PC ID — nothing else, never
the OTP) and the device key pair created on first run (``device.key``/``device.crt``). An
installer can ship ``viewer.json`` with the same keys system-wide, so staff never type the
relay; command-line options override both.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

from apps.common.config_dir import user_config_dir as config_dir_of
from apps.common.preset import VIEWER_PRESET, preset_paths
from core.crypto.certs import parse_fingerprint, parse_host_id
from core.errors import CryptoError, LocalError
from core.policy import PolicyError, normalise_mac
from storage.atomic import DEFAULT_FILE_MODE, write_atomically
from transport.connect import RelayEndpoint

APP_DIR_NAME = "telework-viewer"
# This viewer's version, as its home-PC check reports it (a policy may name a minimum).
VIEWER_VERSION = "0.1.0"
SETTINGS_FILE = "settings.json"
INSTALLER_CONFIG_FILE = VIEWER_PRESET
DEVICE_STEM = "device"
MAX_SETTINGS_BYTES = 16 * 1024  # a settings file is five short strings; ignore anything bigger
MAX_REPORTED_MACS = 16  # the relay accepts 32; a home PC has a handful of interfaces


@dataclass(frozen=True)
class Settings:
    relay: str = ""
    fingerprint: str = ""
    tenant: str = ""
    user: str = ""
    host_id: str = ""

    def merged(self, over: Settings) -> Settings:
        """These settings with every non-empty field of ``over`` on top."""
        return dataclasses.replace(self, **{k: v for k, v in dataclasses.asdict(over).items() if v})

    def missing(self) -> list[str]:
        return [k for k, v in dataclasses.asdict(self).items() if not v]


CONNECTION_FIELDS = tuple(f.name for f in dataclasses.fields(Settings))


def user_config_dir(env: dict[str, str] | None = None, platform: str = sys.platform) -> Path:
    return config_dir_of(APP_DIR_NAME, env, platform)


def installer_config_paths(
    env: dict[str, str] | None = None,
    platform: str = sys.platform,
    executable: str = sys.executable,
) -> list[Path]:
    """Where an installer may put ``viewer.json``, most specific first (apps.common.preset)."""
    return preset_paths(INSTALLER_CONFIG_FILE, env, platform, executable)


def load_settings(path: Path) -> Settings:
    """Read a settings file; a missing, huge or broken one counts as empty, unknown keys ignored."""
    try:
        if path.stat().st_size > MAX_SETTINGS_BYTES:
            return Settings()
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return Settings()
    if not isinstance(data, dict):
        return Settings()
    names = {f.name for f in dataclasses.fields(Settings)}
    return Settings(**{k: v.strip() for k, v in data.items() if k in names and isinstance(v, str)})


def save_settings(path: Path, settings: Settings) -> None:
    """Write the five fields (and only them) atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(dataclasses.asdict(settings), indent=2) + "\n"
    write_atomically(path, text.encode("utf-8"), mode=DEFAULT_FILE_MODE)


def load_all(config_dir: Path, extra_config: Path | None, cli: Settings) -> Settings:
    """Installer config, then the user's settings, then the command line, each overriding."""
    merged = Settings()
    sources = [extra_config] if extra_config else installer_config_paths()
    for path in sources:
        if path.is_file():
            merged = merged.merged(load_settings(path))
            break
    return merged.merged(load_settings(config_dir / SETTINGS_FILE)).merged(cli)


def mac_addresses(sys_class_net: Path = Path("/sys/class/net")) -> list[str]:
    """This PC's hardware addresses, normalised; loopback, all-zero and random ones left out."""
    found: list[str] = []
    if sys_class_net.is_dir():
        for address_file in sorted(sys_class_net.glob("*/address")):
            with contextlib.suppress(OSError):
                found.append(address_file.read_text().strip())
    if not found:
        with contextlib.suppress(ImportError):
            import psutil  # type: ignore[import-untyped, unused-ignore]  # only if the installer ships it

            for addresses in psutil.net_if_addrs().values():
                found.extend(a.address for a in addresses if a.family == psutil.AF_LINK)
    if not found:
        node = uuid.getnode()
        if not node & (1 << 40):  # the multicast bit marks a random stand-in, not a NIC
            found.append(f"{node:012x}")
    macs: list[str] = []
    for text in found:
        try:
            mac = normalise_mac(text.replace("-", ":"))
        except PolicyError:
            continue
        first_octet = int(mac[:2], 16)
        if mac == "00:00:00:00:00:00" or first_octet & 1 or mac in macs:
            continue
        macs.append(mac)
    return macs[:MAX_REPORTED_MACS]


FIELD_LABELS = {
    "relay": "field_relay",
    "fingerprint": "field_fingerprint",
    "tenant": "field_tenant",
    "user": "field_user",
    "host_id": "field_host_id",
    "otp": "field_otp",
}


def form_problem(
    settings: Settings, otp: str, *, otp_required: bool = True
) -> tuple[str, dict[str, str]] | None:
    """What is wrong with a filled-in login form, as a texts key and its values; None if fine.

    The field values are checked with the same parsers the connection uses, so a form that
    passes here never fails later for its shape. ``otp_required`` is False while a refusal's
    ticket stands in for the OTP.
    """
    otp_missing = otp_required and not otp.strip()
    for name in [*settings.missing(), *(["otp"] if otp_missing else [])]:
        return "missing_field", {"field": FIELD_LABELS[name]}
    try:
        parse_fingerprint(settings.fingerprint)
    except CryptoError:
        return "bad_fingerprint", {}
    try:
        RelayEndpoint.parse(settings.relay, fingerprint=settings.fingerprint)
    except LocalError:
        return "bad_relay", {}
    try:
        parse_host_id(settings.host_id)
    except CryptoError:
        return "bad_host_id", {}
    return None
