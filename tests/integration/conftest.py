"""Fixtures shared by the relay-level integration tests."""

from __future__ import annotations

import pytest

from tests.integration.relay_harness import TENANT, USER, HostAgent, start_relay


@pytest.fixture
async def relay(tmp_path):
    """A relay on loopback with the test settings (a module needing others defines its own)."""
    relay = await start_relay(tmp_path)
    yield relay
    await relay.close()


@pytest.fixture
async def host(relay):
    """A scripted office PC on the module's ``relay``, enrolled and granted to the test user."""
    agent = await HostAgent(relay).start()
    relay.directory.grant(TENANT, USER, agent.host_id)
    yield agent
    await agent.stop()
