"""The directory takes the time from its injected clock wherever a caller passes no ``now``."""

from pathlib import Path

from relay.store.directory import Directory

CLOCK_TIME = 1_800_000_000.0


def test_the_clock_gives_the_time_a_caller_leaves_out(tmp_path: Path) -> None:
    with Directory.open(tmp_path, clock=lambda: CLOCK_TIME) as directory:
        tenant = directory.add_tenant("横浜市")
        user, _secret = directory.add_user("横浜市", "sato")
        admin, _password, _admin_secret = directory.add_admin("ops", None)
    assert tenant.created_at == user.created_at == admin.created_at == CLOCK_TIME


def test_a_time_the_caller_passes_wins_over_the_clock(tmp_path: Path) -> None:
    with Directory.open(tmp_path, clock=lambda: CLOCK_TIME) as directory:
        assert directory.add_tenant("横浜市", now=CLOCK_TIME + 5).created_at == CLOCK_TIME + 5
