"""A real rsyslog (Debian's ``rsyslogd``) on loopback for the syslog tests: TLS on TCP
(imtcp with the gtls driver, a test CA and certificate made here) and plain UDP (imudp),
every message written to a file, one line each, with the input it came by."""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

RSYSLOGD = shutil.which("rsyslogd") or (
    "/usr/sbin/rsyslogd" if os.path.exists("/usr/sbin/rsyslogd") else None
)
GTLS_MODULE = Path("/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so")
# What each line of the output file says: the input, then the message's parts.
LINE_TEMPLATE = "%inputname% %pri% %hostname% %app-name% %msgid% %structured-data% %msg%\\n"
START_TIMEOUT_S = 15.0


def require_rsyslog() -> str:
    """rsyslogd's path, or skip saying what to install (CI installs both: ./run)."""
    if RSYSLOGD is None:
        pytest.skip("rsyslogd is not installed (apt-get install rsyslog rsyslog-gnutls)")
    if not any(
        Path(p).exists() for p in (GTLS_MODULE, "/usr/lib/rsyslog/lmnsd_gtls.so")
    ) and not list(Path("/usr/lib").glob("*/rsyslog/lmnsd_gtls.so")):
        pytest.skip("rsyslog's TLS driver is not installed (apt-get install rsyslog-gnutls)")
    return RSYSLOGD


def free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class TestPki:
    """A CA and the collector's certificate for 127.0.0.1, as PEM files."""

    ca_pem: str
    cert_der: bytes
    files: dict[str, Path] = field(default_factory=dict)

    @classmethod
    def make(cls, folder: Path) -> TestPki:
        now = dt.datetime.now(dt.UTC)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "telework test syslog CA")])
        ca = (
            x509.CertificateBuilder()
            .subject_name(ca_name)
            .issuer_name(ca_name)
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                critical=True,
            )
            .sign(ca_key, hashes.SHA256())
        )
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False,
            )
            .add_extension(
                x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
            )
            .sign(ca_key, hashes.SHA256())
        )
        pem = serialization.Encoding.PEM
        pki = cls(ca.public_bytes(pem).decode(), cert.public_bytes(serialization.Encoding.DER))
        for name, data in (
            ("ca.pem", ca.public_bytes(pem)),
            ("cert.pem", cert.public_bytes(pem)),
            (
                "key.pem",
                key.private_bytes(
                    pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
                ),
            ),
        ):
            path = folder / name
            path.write_bytes(data)
            pki.files[name] = path
        return pki


class Rsyslog:
    """rsyslogd in the foreground (``-n``) with its own configuration, pid file and output."""

    def __init__(self, folder: Path) -> None:
        self.binary = require_rsyslog()
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "work").mkdir(exist_ok=True)
        self.pki = TestPki.make(folder)
        self.tls_port = free_port(socket.SOCK_STREAM)
        self.udp_port = free_port(socket.SOCK_DGRAM)
        self.output = folder / "messages.log"
        self.conf = folder / "rsyslog.conf"
        self.pidfile = folder / "rsyslogd.pid"
        self.process: subprocess.Popen[bytes] | None = None
        files = self.pki.files
        self.conf.write_text(
            f"""
global(
  workDirectory="{folder / "work"}"
  defaultNetstreamDriver="gtls"
  defaultNetstreamDriverCAFile="{files["ca.pem"]}"
  defaultNetstreamDriverCertFile="{files["cert.pem"]}"
  defaultNetstreamDriverKeyFile="{files["key.pem"]}"
)
module(load="imtcp" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")
input(type="imtcp" address="127.0.0.1" port="{self.tls_port}")
module(load="imudp")
input(type="imudp" address="127.0.0.1" port="{self.udp_port}")
template(name="lines" type="string" string="{LINE_TEMPLATE}")
*.* action(type="omfile" file="{self.output}" template="lines" flushOnTXEnd="on")
""",
            encoding="utf-8",
        )

    def start(self) -> None:
        """Start rsyslogd and wait until both inputs take messages."""
        self.pidfile.unlink(missing_ok=True)
        with (self.folder / "rsyslogd.err").open("ab") as errors:
            self.process = subprocess.Popen(
                [self.binary, "-n", "-f", str(self.conf), "-i", str(self.pidfile)],
                stdout=subprocess.DEVNULL,
                stderr=errors,
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        probe = 0
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"rsyslogd exited: {self.errors()}")
            probe += 1
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.tls_port), timeout=0.5),
            ):
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                    udp.sendto(
                        f"<14>1 - - probe - probe{probe} - up".encode(),
                        ("127.0.0.1", self.udp_port),
                    )
                time.sleep(0.1)
                if "probe" in self.text():
                    return
            time.sleep(0.1)
        raise RuntimeError(f"rsyslogd did not start: {self.errors()}")

    def stop(self) -> None:
        """Stop rsyslogd (the one this object started), waiting for it to exit."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def text(self) -> str:
        try:
            return self.output.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def lines(self, msgid: str | None = None) -> list[str]:
        """The output's lines from our relay (not the probes), of ``msgid`` if given."""
        found = [line for line in self.text().splitlines() if " probe " not in line]
        if msgid is not None:
            found = [line for line in found if line.split(" ")[4:5] == [msgid]]
        return found

    def errors(self) -> str:
        path = self.folder / "rsyslogd.err"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""
