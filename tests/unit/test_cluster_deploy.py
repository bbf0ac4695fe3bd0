"""The relay cluster's example files (installers/cluster/) and its guide
(docs/deployment-cluster.md, docs/ja/deployment-cluster.md) agree with each other and with the
package's single-node unit."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.unit.test_glossary import avoided, used

ROOT = Path(__file__).resolve().parents[2]
CLUSTER = ROOT / "installers" / "cluster"
TEMPLATE_UNIT = CLUSTER / "telework-relay@.service"
ENV_FILE = CLUSTER / "relay-a.env"
HAPROXY_CFG = CLUSTER / "haproxy.cfg"
SINGLE_UNIT = ROOT / "installers" / "linux" / "telework-relay.service"
GUIDES = (ROOT / "docs" / "deployment-cluster.md", ROOT / "docs" / "ja" / "deployment-cluster.md")
LINK = re.compile(r"\]\(([^)\s]+)\)")


def unit_settings(path: Path) -> dict[str, str]:
    """Key -> value of a unit file, continuation lines joined (the last one of a repeated key)."""
    text = path.read_text(encoding="utf-8").replace("\\\n", " ")
    settings = {}
    for line in text.splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";", "[")):
            key, value = line.split("=", 1)
            settings[key.strip()] = " ".join(value.split())
    return settings


def env_settings(path: Path) -> dict[str, str]:
    pairs = (
        line.split("=", 1)
        for line in path.read_text(encoding="utf-8").splitlines()
        if "=" in line and not line.startswith("#")
    )
    return {key: value for key, value in pairs}


def seconds(span: str) -> float:
    """A systemd time span such as ``16min``, ``900s``, ``1h 5min`` or ``900``, in seconds."""
    units = {"": 1, "s": 1, "sec": 1, "min": 60, "m": 60, "h": 3600}
    parts = re.findall(r"(\d+)\s*([a-z]*)", span)
    assert parts, span
    return sum(int(number) * units[unit] for number, unit in parts)


def test_the_env_file_sets_every_variable_the_unit_reads():
    used_vars = set(re.findall(r"\$\{?([A-Z_]+)\}?", unit_settings(TEMPLATE_UNIT)["ExecStart"]))
    assert used_vars - set(env_settings(ENV_FILE)) == set()


def test_the_unit_runs_a_cluster_node_with_the_designs_options():
    exec_start = unit_settings(TEMPLATE_UNIT)["ExecStart"]
    for option in (
        "--data-dir",
        "--database",
        "--node-id",
        "--advertise",
        "--listen",
        "--metrics-listen",
        "--admin-listen",
        "--max-hosts",
        "--drain-timeout",
    ):
        assert f" {option} " in exec_start
    assert unit_settings(TEMPLATE_UNIT)["EnvironmentFile"] == "/etc/telework/relay-%i.env"


def test_systemd_waits_for_the_drain_before_it_kills():
    unit = unit_settings(TEMPLATE_UNIT)
    drain_s = float(env_settings(ENV_FILE)["TELEWORK_DRAIN_TIMEOUT"])
    assert unit["KillSignal"] == "SIGTERM"
    assert seconds(unit["TimeoutStopSec"]) >= drain_s + 60


def test_the_template_keeps_the_single_node_units_hardening():
    single, template = unit_settings(SINGLE_UNIT), unit_settings(TEMPLATE_UNIT)
    for key in (
        "User",
        "Group",
        "StateDirectory",
        "StateDirectoryMode",
        "NoNewPrivileges",
        "ProtectSystem",
        "ProtectHome",
        "PrivateTmp",
        "PrivateDevices",
        "ProtectKernelTunables",
        "ProtectControlGroups",
        "RestrictAddressFamilies",
        "LimitNOFILE",
    ):
        assert template.get(key) == single[key], key


def test_haproxy_balances_tcp_by_least_connections_with_health_checks():
    lines = HAPROXY_CFG.read_text(encoding="utf-8").splitlines()
    text = "\n".join(line.split("#", 1)[0].rstrip() for line in lines)  # without comments
    relay_backend = text.split("backend relay_nodes", 1)[1].split("\nfrontend", 1)[0]
    assert "mode tcp" in text and "ssl" not in relay_backend
    assert "balance leastconn" in relay_backend
    assert "option httpchk GET /healthz" in relay_backend
    assert "check port 9464" in relay_backend
    assert "shutdown-sessions" not in text  # draining sessions must keep running
    # Each node gets the client's address in a PROXY v2 header, and trusts HAProxy's for it.
    servers = re.findall(r"^\s*server (\S+) (\S+) send-proxy-v2$", relay_backend, re.M)
    assert servers == [
        ("relay-a", "10.0.0.11:8443"),
        ("relay-b", "10.0.0.12:8443"),
        ("relay-c", "10.0.0.13:8443"),
    ]
    assert env_settings(ENV_FILE)["TELEWORK_ADVERTISE"] == servers[0][1]
    assert "--trusted-proxy 10.0.0.10" in env_settings(ENV_FILE)["TELEWORK_RELAY_EXTRA_OPTS"]


@pytest.mark.skipif(
    shutil.which("haproxy") is None, reason="needs haproxy (apt-get install haproxy)"
)
def test_haproxy_accepts_the_example_config():
    haproxy = shutil.which("haproxy") or "haproxy"
    checked = subprocess.run(
        [haproxy, "-c", "-f", str(HAPROXY_CFG)], capture_output=True, text=True, timeout=60
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def heading_anchor(heading: str) -> str:
    """GitHub's anchor of a Markdown heading (ASCII headings: enough for the links here)."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


@pytest.mark.parametrize("guide", GUIDES, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_guides_links_lead_somewhere(guide):
    broken = []
    for target in LINK.findall(guide.read_text(encoding="utf-8")):
        if target.startswith(("http://", "https://")):
            continue
        path_part, _, anchor = target.partition("#")
        path = (guide.parent / path_part).resolve()
        if not path.exists():
            broken.append(target)
        elif anchor:
            headings = re.findall(r"^#+ (.*)$", path.read_text(encoding="utf-8"), re.M)
            if anchor not in {heading_anchor(h) for h in headings}:
                broken.append(target)
    assert broken == []


def test_the_guide_is_linked_from_the_readme_and_the_architecture_map():
    assert "(docs/deployment-cluster.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
    architecture = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert "(deployment-cluster.md)" in architecture


def test_the_japanese_guide_uses_the_glossarys_names():
    text = GUIDES[1].read_text(encoding="utf-8")
    assert [name for name in avoided("ja") if used(name, text)] == []
