"""Shared test settings."""

import gc
import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from tests.postgres_cluster import PostgresCluster, missing_reason, running_cluster

# CI machines have 2 busy cores: judge properties by their results, never by wall time.
settings.register_profile("ci", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci")


@pytest.fixture(autouse=True)
def _english():
    """Every test starts in English, whatever the machine's locale; a test may switch."""
    from apps.common.i18n import set_language

    set_language("en")


@pytest.fixture(autouse=True)
def _collect_qt_garbage_on_the_qt_thread(request):
    """After a GUI test, collect cyclic garbage here, on the Qt thread: left for later, it may
    be collected on another thread (a test's background relay), and Qt crashes on that.

    What survives is then frozen (moved out of the collector's reach): otherwise every later
    collection walks the whole test session's heap again, which took ~0.7 s after each of the
    213 GUI tests (157 s of their 262 s; frozen: 4 s). A frozen object is still freed when its
    last reference goes; only a cycle among them is never collected, a leak a test process can
    afford, and one that Qt cannot crash on either."""
    yield
    if "gui" in request.node.path.parts:
        gc.collect()
        gc.freeze()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under pytest-xdist (``--dist loadgroup``, ./run test), the packaging tests run in one
    worker, one after another: they install and purge packages (one dpkg lock, one system) and
    run the frozen programs from one dist/."""
    for item in items:
        if "packaging" in item.path.parts:
            item.add_marker(pytest.mark.xdist_group("packaging"))


# TELEWORK_TEST_LOOP=uvloop runs every asyncio test on uvloop, the relay's default loop
# (``telework-relay serve --loop``); unset, on asyncio's own.
TEST_LOOP_ENV = "TELEWORK_TEST_LOOP"
if os.environ.get(TEST_LOOP_ENV) == "uvloop":
    import uvloop

    def pytest_asyncio_loop_factories(config, item):
        return {"uvloop": uvloop.new_event_loop}


# Set (by .ci/run) where PostgreSQL must be available: a missing server fails instead of skipping.
REQUIRE_POSTGRES_ENV = "TELEWORK_REQUIRE_POSTGRES"


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """One throwaway PostgreSQL server for the whole session, started on first use."""
    reason = missing_reason()
    if reason is not None:
        if os.environ.get(REQUIRE_POSTGRES_ENV):
            pytest.fail(f"{REQUIRE_POSTGRES_ENV} is set but {reason}")
        pytest.skip(reason)
    with running_cluster() as cluster:
        yield cluster


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """The directory database a test runs on, once per engine: None means the embedded SQLite
    file in the data directory (``Directory.open``'s default), else an empty PostgreSQL schema."""
    if request.param == "sqlite":
        yield None
        return
    cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
    with cluster.empty_schema() as url:
        yield url
