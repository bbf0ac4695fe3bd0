"""Schemathesis against the admin API's own OpenAPI description: no input makes it answer 5xx.

The relay runs on a loop in a background thread (schemathesis calls are synchronous); a few
examples per operation keep the run to seconds.
"""

from __future__ import annotations

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from relay.admin.auth import Role
from relay.admin.openapi import openapi
from tests.integration.admin.background import RelayThread

# Examples per operation: enough to hit wrong types, empty and huge strings, odd unicode.
EXAMPLES_PER_OPERATION = 12


@pytest.fixture
def live(tmp_path):
    background = RelayThread(tmp_path)
    yield background
    background.stop()


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_no_input_makes_the_admin_api_fail_with_5xx(live):
    live.relay.directory.add_admin("root", None)  # a token stands for an admin that exists
    token, _ = live.run(live.admin.service.sessions.open("root", None, Role.OPERATOR))
    schema = schemathesis.openapi.from_dict(openapi())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30
    http = requests.Session()
    failures: list[str] = []
    try:
        for operation in operations:

            @settings(
                max_examples=EXAMPLES_PER_OPERATION,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy())
            def exercise(case) -> None:
                response = case.call(
                    base_url=live.admin.url,
                    session=http,
                    headers={"Authorization": f"Bearer {token}"},
                    verify=False,  # the pin is not under test here; TLS 1.3 still is
                )
                try:
                    case.validate_response(response, checks=[not_a_server_error])
                except AssertionError as exc:
                    failures.append(f"{case.method} {case.path}: {exc}"[:500])

            exercise()
    finally:
        http.close()
    assert failures == []
