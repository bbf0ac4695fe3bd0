"""Fixtures shared by the relay-level integration tests."""

from __future__ import annotations

import pytest

from tests.integration.relay_harness import TENANT, USER, HostAgent


@pytest.fixture
async def host(relay):
    """A scripted office PC on the module's ``relay``, enrolled and granted to the test user."""
    agent = await HostAgent(relay).start()
    relay.directory.grant(TENANT, USER, agent.host_id)
    yield agent
    await agent.stop()
