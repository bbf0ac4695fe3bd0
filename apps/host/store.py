"""What the agent keeps in its data directory, and where that directory is.

``host.json``     the enrolment record: host ID, tenant, relay address and pinned fingerprint
``host.secret``   the host's relay credential (0600; never logged, never shown)
``host.key/.crt`` the host's key pair, whose public key *is* the host ID
``allowed-macs.json``  registered home PCs (:mod:`apps.host.mac_list`)
``allowed-devices.json``  home-PC codes registered here (:mod:`apps.host.device_list`)
``tenant-key.json``, ``central-devices.json``  the pinned tenant signing key and the home PCs
                  its admins registered centrally (:mod:`apps.host.central_devices`)
``policy.json``   the last policy the relay pushed, so a restart offline stays as strict
``local-policy.json``  optional local defaults set by the office PC's administrator
``status.json``   what the running agent is doing, for ``telework-host status``
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from core.errors import LocalError
from core.policy import Policy, PolicyError
from storage.atomic import write_private_json

IDENTITY_STEM = "host"
RECORD_FILE = "host.json"
SECRET_FILE = "host.secret"  # noqa: S105 - a file name
PUSHED_POLICY_FILE = "policy.json"
LOCAL_POLICY_FILE = "local-policy.json"
STATUS_FILE = "status.json"


def default_data_dir() -> Path:
    if sys.platform == "win32":  # pragma: no cover
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
        return base / "Telework" / "Host"
    base = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share"))
    return base / "telework-host"


@dataclass(frozen=True)
class HostRecord:
    host_id: str
    tenant: str
    relay: str
    fingerprint: str
    name: str


class DataDir:
    def __init__(self, path: Path) -> None:
        self.path = path

    def ensure(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True, mode=0o700)

    # -- enrolment ---------------------------------------------------------------------------
    def load_record(self) -> HostRecord | None:
        data = read_json(self.path / RECORD_FILE)
        if data is None:
            return None
        try:
            return HostRecord(**{k: str(data[k]) for k in HostRecord.__dataclass_fields__})
        except KeyError as exc:
            raise LocalError(f"{self.path / RECORD_FILE} is incomplete") from exc

    def save_enrolment(self, record: HostRecord, secret: str) -> None:
        self.ensure()
        write_private_json(self.path / SECRET_FILE, {"secret": secret})
        write_private_json(self.path / RECORD_FILE, asdict(record))

    def load_secret(self) -> str:
        data = read_json(self.path / SECRET_FILE)
        if data is None or not isinstance(data.get("secret"), str):
            raise LocalError(f"no host secret in {self.path}; enrol again")
        return str(data["secret"])

    # -- policies ------------------------------------------------------------------------------
    def load_policy(self, name: str) -> Policy:
        data = read_json(self.path / name)
        if data is None:
            return Policy()
        try:
            return Policy.from_dict(data)
        except PolicyError as exc:
            raise LocalError(f"{self.path / name}: {exc}") from exc

    def save_pushed_policy(self, policy: Policy) -> None:
        self.ensure()
        write_private_json(self.path / PUSHED_POLICY_FILE, policy.to_dict())

    # -- status --------------------------------------------------------------------------------
    def write_status(self, status: dict[str, Any]) -> None:
        self.ensure()
        write_private_json(self.path / STATUS_FILE, status)

    def read_status(self) -> dict[str, Any] | None:
        return read_json(self.path / STATUS_FILE)


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise LocalError(f"cannot read {path}: {exc}") from exc
    return data if isinstance(data, dict) else None


def process_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    if sys.platform == "win32":  # pragma: no cover - os.kill(pid, 0) would terminate it
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
