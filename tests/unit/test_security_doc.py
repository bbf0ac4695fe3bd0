"""SECURITY.md must name every limit constant of the modules that enforce limits."""

import importlib
import re
from pathlib import Path

import pytest

LIMIT_NAME = re.compile(
    r"^(MAX|MIN)_|_(TIMEOUT_S|TTL_S|RATE_BPS|BURST_BYTES|FAILURES|LOCK_S|WINDOW_S)$"
)
MODULES = [
    "core.protocol.framing",
    "core.protocol.control",
    "core.protocol.session",
    "core.protocol.notices",
    "core.policy",
    "relay.settings",
    "transport.connect",
    "transport.e2e",
    "transport.client",
    "core.auth.lockout",
    "core.auth.one_time_codes",
    "core.auth.passwords",
    "core.crypto.secret_box",
    "relay.store.audit",
    "relay.store.bandwidth",
    "relay.store.database",
    "relay.store.directory",
    "relay.store.hosts",
    "relay.store.tickets",
    "relay.store.tokens",
    "relay.store.schema",
    "relay.admin.auth",
    "relay.admin.server",
    "relay.admin.routes",
    "relay.admin.params",
    "relay.admin.handlers.hosts",
    "relay.admin.services.monitoring",
    "relay.admin.monitor",
    "relay.admin.service",
    "relay.admin.usage",
    "relay.admin.schema",
    "core.hostpolicy.backoff",
    "core.hostpolicy.limits",
    "core.hostpolicy.macs",
    "core.input.dispatch",
    "apps.host.agent",
    "apps.host.session",
    "apps.host.session_core",
    "apps.host.store",
    "apps.viewer.settings",
    "apps.viewer.client",
    "apps.viewer.reconnect",
    "apps.admin.api",
]
SECURITY = (Path(__file__).parents[2] / "SECURITY.md").read_text()


@pytest.mark.parametrize("module", MODULES)
def test_every_limit_is_documented(module):
    names = [
        n
        for n in vars(importlib.import_module(module))
        if LIMIT_NAME.search(n)
        and importlib.import_module(module).__dict__[n].__class__.__module__ == "builtins"
    ]
    missing = [n for n in names if f"`{n}`" not in SECURITY]
    assert not missing, f"{module}: add {missing} to SECURITY.md"
