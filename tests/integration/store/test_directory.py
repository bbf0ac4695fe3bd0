"""The Directory on SQLite and on PostgreSQL: every method, single use under threads, isolation.

Tests that look inside the SQLite file itself run on SQLite only.
"""

from __future__ import annotations

import itertools
import sqlite3
import stat
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import pyotp
import pytest

from core.crypto.secret_box import SecretBox
from core.wake import LanCard
from relay.store.directory import DB_FILENAME, SECRET_KEY_FILENAME, Directory
from relay.store.errors import (
    AlreadyExists,
    EnrollmentRefused,
    InvalidInput,
    NotFound,
    StoreError,
)
from relay.store.hosts import MAX_ENROLLMENT_TTL_S
from relay.store.inputs import MAX_PAGE_ROWS
from relay.store.schema import (
    MAX_DEPARTMENT_LEN,
    MAX_FULL_NAME_LEN,
    MAX_LOGIN_LEN,
    MAX_TENANT_NAME_LEN,
)
from relay.store.staff import OtpResult
from relay.store.tickets import MAX_OTP_FREE_S

NOW = 1_800_000_000.0


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "relay"


@pytest.fixture
def directory(data_dir: Path, database_url: str | None) -> Iterator[Directory]:
    with Directory.open(data_dir, database=database_url) as opened:
        yield opened


@pytest.fixture
def tenant(directory: Directory) -> str:
    directory.add_tenant("横浜市", now=NOW)
    return "横浜市"


def totp_at(secret: str, now: float) -> str:
    return pyotp.TOTP(secret).at(now)


def enrol(directory: Directory, tenant: str, host_id: str = "h-1") -> str:
    token = directory.issue_enrollment_token(tenant, 3600, NOW)
    _, secret = directory.redeem_enrollment_token(token, host_id, "PEM", "PC 1", "0.1", NOW)
    return secret


def race[T](count: int, action: Callable[[], T]) -> list[T]:
    """Run ``action`` in ``count`` threads released together; return every result."""
    barrier = threading.Barrier(count)

    def run() -> T:
        barrier.wait()
        return action()

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(lambda _: run(), range(count)))


# --- opening ------------------------------------------------------------------------------------


def test_open_creates_files_and_sqlite_settings(data_dir: Path) -> None:
    Directory.open(data_dir).close()
    assert (data_dir / DB_FILENAME).exists()
    assert stat.S_IMODE((data_dir / SECRET_KEY_FILENAME).stat().st_mode) == 0o600
    assert stat.S_IMODE((data_dir / DB_FILENAME).stat().st_mode) == 0o600
    conn = sqlite3.connect(data_dir / DB_FILENAME)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        version = conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
        assert version == "0012"  # the newest migration
    finally:
        conn.close()


def test_reopen_keeps_data_and_key(data_dir: Path, database_url: str | None) -> None:
    with Directory.open(data_dir, database=database_url) as directory:
        directory.add_tenant("t")
        _, secret = directory.add_user("t", "u")
    with Directory.open(data_dir, database=database_url) as directory:
        assert [t.name for t in directory.list_tenants()] == ["t"]
        assert directory.verify_otp("t", "u", totp_at(secret, NOW), NOW) is OtpResult.TOTP_OK


def test_from_url_with_separate_key(tmp_path: Path) -> None:
    box = SecretBox.generate()
    url = f"sqlite:///{tmp_path / 'other.db'}"
    with Directory.from_url(url, box) as directory:
        directory.add_tenant("t")
    with Directory.from_url(url, box) as directory:
        assert directory.get_tenant("t") is not None


def test_totp_secret_is_not_stored_in_plaintext(data_dir: Path) -> None:
    with Directory.open(data_dir) as directory:
        directory.add_tenant("t")
        _, secret = directory.add_user("t", "u")
    for path in data_dir.iterdir():
        assert secret.encode() not in path.read_bytes()


# --- tenants ------------------------------------------------------------------------------------


def test_tenants(directory: Directory) -> None:
    created = directory.add_tenant("b-town", now=NOW)
    directory.add_tenant("a-city", now=NOW)
    assert created.name == "b-town" and created.created_at == NOW
    assert directory.get_tenant("b-town") == created
    assert directory.get_tenant("nope") is None
    assert directory.get_tenant("") is None
    assert [t.name for t in directory.list_tenants()] == ["a-city", "b-town"]


def test_tenant_names_are_normalised(directory: Directory) -> None:
    directory.add_tenant("ＡＢＣ")  # full-width
    assert directory.get_tenant("ABC") is not None
    with pytest.raises(AlreadyExists):
        directory.add_tenant("ABC")


@pytest.mark.parametrize(
    "name", ["", " lead", "trail ", "a\nb", "a\u200bb", "x" * (MAX_TENANT_NAME_LEN + 1), None]
)
def test_bad_tenant_names(directory: Directory, name: object) -> None:
    with pytest.raises(InvalidInput):
        directory.add_tenant(name)  # type: ignore[arg-type]
    assert directory.list_tenants() == []


def test_duplicate_tenant(directory: Directory, tenant: str) -> None:
    with pytest.raises(AlreadyExists, match="already exists"):
        directory.add_tenant(tenant)
    assert len(directory.list_tenants()) == 1


# --- users --------------------------------------------------------------------------------------


def test_add_get_list_users(directory: Directory, tenant: str) -> None:
    user, secret = directory.add_user(tenant, "taro", now=NOW)
    assert (user.tenant, user.login, user.disabled, user.created_at) == (tenant, "taro", False, NOW)
    assert user.last_login_at is None
    assert len(secret) == 32
    assert directory.get_user(tenant, "taro") == user
    assert directory.get_user(tenant, "jiro") is None
    assert directory.get_user("other", "taro") is None
    assert directory.get_user(tenant, "x" * 1000) is None
    directory.add_user(tenant, "hanako")
    assert [u.login for u in directory.list_users(tenant)] == ["hanako", "taro"]


def test_add_user_errors_change_nothing(directory: Directory, tenant: str) -> None:
    directory.add_user(tenant, "taro")
    with pytest.raises(AlreadyExists):
        directory.add_user(tenant, "taro")
    with pytest.raises(NotFound, match="no tenant"):
        directory.add_user("nowhere", "taro")
    with pytest.raises(InvalidInput):
        directory.add_user(tenant, "y" * (MAX_LOGIN_LEN + 1))
    with pytest.raises(InvalidInput):
        directory.add_user(tenant, "")
    assert [u.login for u in directory.list_users(tenant)] == ["taro"]


def test_same_login_in_two_tenants(directory: Directory, tenant: str) -> None:
    directory.add_tenant("other")
    directory.add_user(tenant, "taro")
    directory.add_user("other", "taro")
    assert directory.get_user("other", "taro") is not None


def test_errors_share_a_base() -> None:
    for cls in (NotFound, AlreadyExists, InvalidInput, EnrollmentRefused):
        assert issubclass(cls, StoreError)


def test_disable_and_delete_user(directory: Directory, tenant: str) -> None:
    _, secret = directory.add_user(tenant, "taro")
    directory.set_user_disabled(tenant, "taro", True)
    user = directory.get_user(tenant, "taro")
    assert user is not None and user.disabled
    assert directory.verify_otp(tenant, "taro", totp_at(secret, NOW), NOW) is OtpResult.DISABLED
    assert directory.verify_otp(tenant, "taro", "000000", NOW) in (
        OtpResult.WRONG,
        OtpResult.DISABLED,  # only if 000000 happens to be the current code
    )
    directory.set_user_disabled(tenant, "taro", False)
    assert directory.verify_otp(tenant, "taro", totp_at(secret, NOW), NOW) is OtpResult.TOTP_OK
    directory.issue_codes(tenant, "taro", 2)
    directory.delete_user(tenant, "taro")
    assert directory.get_user(tenant, "taro") is None
    with pytest.raises(NotFound):
        directory.delete_user(tenant, "taro")
    with pytest.raises(NotFound):
        directory.set_user_disabled(tenant, "taro", True)


def test_reset_totp(directory: Directory, tenant: str) -> None:
    _, old = directory.add_user(tenant, "taro")
    new = directory.reset_totp(tenant, "taro")
    assert new != old
    assert directory.verify_otp(tenant, "taro", totp_at(old, NOW), NOW) is OtpResult.WRONG
    assert directory.verify_otp(tenant, "taro", totp_at(new, NOW), NOW) is OtpResult.TOTP_OK
    with pytest.raises(NotFound):
        directory.reset_totp(tenant, "nobody")


# --- verify_otp ---------------------------------------------------------------------------------


def test_totp_login_once_per_step(directory: Directory, tenant: str) -> None:
    _, secret = directory.add_user(tenant, "taro")
    code = totp_at(secret, NOW)
    assert directory.verify_otp(tenant, "taro", code, NOW) is OtpResult.TOTP_OK
    assert directory.verify_otp(tenant, "taro", code, NOW + 1) is OtpResult.WRONG  # replay
    user = directory.get_user(tenant, "taro")
    assert user is not None and user.last_login_at == NOW
    # An earlier step, though within drift, is older than the one used: refused.
    assert directory.verify_otp(tenant, "taro", totp_at(secret, NOW - 30), NOW) is OtpResult.WRONG
    assert directory.verify_otp(tenant, "taro", totp_at(secret, NOW + 30), NOW + 30) is (
        OtpResult.TOTP_OK
    )


@pytest.mark.parametrize("otp", ["", "12345", "abcdef", "1234567", "1234-5678", None])
def test_malformed_otp(directory: Directory, tenant: str, otp: object) -> None:
    directory.add_user(tenant, "taro")
    assert directory.verify_otp(tenant, "taro", otp, NOW) is OtpResult.WRONG  # type: ignore[arg-type]
    assert directory.verify_otp(tenant, "ghost", otp, NOW) is OtpResult.UNKNOWN_USER  # type: ignore[arg-type]


def test_unknown_user_and_tenant(directory: Directory, tenant: str) -> None:
    for otp in ("123456", "1234-5678-9012"):
        assert directory.verify_otp(tenant, "ghost", otp, NOW) is OtpResult.UNKNOWN_USER
        assert directory.verify_otp("nowhere", "ghost", otp, NOW) is OtpResult.UNKNOWN_USER
        assert directory.verify_otp("", "\n", otp, NOW) is OtpResult.UNKNOWN_USER


def test_one_time_codes(directory: Directory, tenant: str) -> None:
    directory.add_user(tenant, "taro")
    codes = directory.issue_codes(tenant, "taro", 3, now=NOW)
    assert len(set(codes)) == 3
    assert directory.verify_otp(tenant, "taro", codes[1], NOW) is OtpResult.CODE_OK
    assert directory.verify_otp(tenant, "taro", codes[1], NOW) is OtpResult.WRONG
    spaced = codes[0].replace("-", " ")
    assert directory.verify_otp(tenant, "taro", spaced, NOW + 5) is OtpResult.CODE_OK
    user = directory.get_user(tenant, "taro")
    assert user is not None and user.last_login_at == NOW + 5
    assert directory.verify_otp(tenant, "taro", "0000-0000-0000", NOW) is OtpResult.WRONG


def test_codes_belong_to_their_user(directory: Directory, tenant: str) -> None:
    directory.add_user(tenant, "taro")
    directory.add_user(tenant, "jiro")
    codes = directory.issue_codes(tenant, "taro", 1)
    assert directory.verify_otp(tenant, "jiro", codes[0], NOW) is OtpResult.WRONG
    assert directory.verify_otp(tenant, "taro", codes[0], NOW) is OtpResult.CODE_OK


def test_new_issue_replaces_unused_codes(directory: Directory, tenant: str) -> None:
    directory.add_user(tenant, "taro")
    old = directory.issue_codes(tenant, "taro", 2)
    new = directory.issue_codes(tenant, "taro", 2)
    assert directory.verify_otp(tenant, "taro", old[0], NOW) is OtpResult.WRONG
    assert directory.verify_otp(tenant, "taro", new[0], NOW) is OtpResult.CODE_OK


def test_issue_codes_errors(directory: Directory, tenant: str) -> None:
    directory.add_user(tenant, "taro")
    for count in (0, 11, -1):
        with pytest.raises(InvalidInput):
            directory.issue_codes(tenant, "taro", count)
    with pytest.raises(NotFound):
        directory.issue_codes(tenant, "ghost", 1)


def test_disabled_user_code_is_not_consumed(directory: Directory, tenant: str) -> None:
    directory.add_user(tenant, "taro")
    codes = directory.issue_codes(tenant, "taro", 1)
    directory.set_user_disabled(tenant, "taro", True)
    assert directory.verify_otp(tenant, "taro", codes[0], NOW) is OtpResult.DISABLED
    directory.set_user_disabled(tenant, "taro", False)
    assert directory.verify_otp(tenant, "taro", codes[0], NOW) is OtpResult.CODE_OK


def test_totp_accepted_once_under_threads(directory: Directory, tenant: str) -> None:
    _, secret = directory.add_user(tenant, "taro")
    code = totp_at(secret, NOW)
    results = race(8, lambda: directory.verify_otp(tenant, "taro", code, NOW))
    assert results.count(OtpResult.TOTP_OK) == 1
    assert results.count(OtpResult.WRONG) == 7


def test_code_accepted_once_under_threads(directory: Directory, tenant: str) -> None:
    directory.add_user(tenant, "taro")
    code = directory.issue_codes(tenant, "taro", 1)[0]
    results = race(6, lambda: directory.verify_otp(tenant, "taro", code, NOW))
    assert results.count(OtpResult.CODE_OK) == 1
    assert results.count(OtpResult.WRONG) == 5


def test_code_accepted_once_across_two_directories(
    data_dir: Path, database_url: str | None
) -> None:
    """Two processes (relay and CLI, or two relays) share the database: single use still holds."""
    with (
        Directory.open(data_dir, database=database_url) as first,
        Directory.open(data_dir, database=database_url) as second,
    ):
        first.add_tenant("t")
        first.add_user("t", "u")
        code = first.issue_codes("t", "u", 1)[0]
        turns = itertools.count()

        def attempt() -> OtpResult:
            chosen = (first, second)[next(turns) % 2]
            return chosen.verify_otp("t", "u", code, NOW)

        results = race(4, attempt)
        assert results.count(OtpResult.CODE_OK) == 1


def test_moved_totp_ciphertext_does_not_open(data_dir: Path) -> None:
    """Copying one user's sealed seed onto another user's row does not let it log in."""
    with Directory.open(data_dir) as directory:
        directory.add_tenant("t")
        _, secret = directory.add_user("t", "victim")
        directory.add_user("t", "attacker")
    conn = sqlite3.connect(data_dir / DB_FILENAME)
    try:
        with conn:
            conn.execute(
                "UPDATE users SET totp_secret_sealed = "
                "(SELECT totp_secret_sealed FROM users WHERE login = 'victim') "
                "WHERE login = 'attacker'"
            )
    finally:
        conn.close()
    with Directory.open(data_dir) as directory:
        code = totp_at(secret, NOW)
        assert directory.verify_otp("t", "attacker", code, NOW) is OtpResult.WRONG
        assert directory.verify_otp("t", "victim", code, NOW) is OtpResult.TOTP_OK


# --- enrolment and hosts ------------------------------------------------------------------------


def test_enrolment(directory: Directory, tenant: str) -> None:
    token = directory.issue_enrollment_token(tenant, 3600, NOW)
    assert len(token) >= 40
    tenant_name, secret = directory.redeem_enrollment_token(
        token, "sha256:abcd", "PEM DATA", "窓口PC", "1.0.0", NOW + 10
    )
    assert tenant_name == tenant and len(secret) >= 40
    host = directory.get_host("sha256:abcd")
    assert host is not None
    assert (host.tenant, host.name, host.cert_pem, host.agent_version) == (
        tenant,
        "窓口PC",
        "PEM DATA",
        "1.0.0",
    )
    assert host.created_at == NOW + 10 and host.last_seen_at is None and not host.retired
    with pytest.raises(EnrollmentRefused) as refused:
        directory.redeem_enrollment_token(token, "h-2", "PEM", "PC", "1", NOW + 20)
    assert refused.value.reason == "token_used"


def test_enrolment_refusals(directory: Directory, tenant: str) -> None:
    token = directory.issue_enrollment_token(tenant, 60, NOW)
    for bad_token in ("nonsense", "", "x" * 10_000, None):
        with pytest.raises(EnrollmentRefused) as refused:
            directory.redeem_enrollment_token(bad_token, "h", "PEM", "PC", "1", NOW)  # type: ignore[arg-type]
        assert refused.value.reason == "token_unknown"
    with pytest.raises(EnrollmentRefused) as refused:
        directory.redeem_enrollment_token(token, "h", "PEM", "PC", "1", NOW + 60)
    assert refused.value.reason == "token_expired"
    for host_id, name, pem in (("bad id", "PC", "PEM"), ("h", "", "PEM"), ("h", "PC", "")):
        with pytest.raises(EnrollmentRefused) as refused:
            directory.redeem_enrollment_token(token, host_id, pem, name, "1", NOW)
        assert refused.value.reason == "bad_request"
    assert directory.list_hosts(tenant) == []


def test_enrolment_of_existing_host_consumes_nothing(directory: Directory, tenant: str) -> None:
    enrol(directory, tenant, "h-1")
    token = directory.issue_enrollment_token(tenant, 60, NOW)
    with pytest.raises(EnrollmentRefused) as refused:
        directory.redeem_enrollment_token(token, "h-1", "PEM", "PC", "1", NOW)
    assert refused.value.reason == "host_exists"
    directory.redeem_enrollment_token(token, "h-2", "PEM", "PC", "1", NOW)  # still usable


def test_enrolment_token_errors(directory: Directory, tenant: str) -> None:
    with pytest.raises(NotFound):
        directory.issue_enrollment_token("nowhere", 60, NOW)
    for ttl in (0, -1, MAX_ENROLLMENT_TTL_S + 1):
        with pytest.raises(InvalidInput):
            directory.issue_enrollment_token(tenant, ttl, NOW)


def test_enrolment_token_used_once_under_threads(directory: Directory, tenant: str) -> None:
    token = directory.issue_enrollment_token(tenant, 60, NOW)
    counter = iter(range(100))

    def attempt() -> str:
        try:
            directory.redeem_enrollment_token(token, f"h-{next(counter)}", "PEM", "PC", "1", NOW)
        except EnrollmentRefused as exc:
            return exc.reason
        return "ok"

    results = race(8, attempt)
    assert results.count("ok") == 1
    assert results.count("token_used") == 7
    assert len(directory.list_hosts(tenant)) == 1


def test_an_office_pc_is_checked_by_its_credential_and_its_last_sighting_recorded_apart(
    directory: Directory, tenant: str
) -> None:
    secret = enrol(directory, tenant)
    host = directory.check_host_credential("h-1", secret)
    assert host is not None and host.tenant == tenant and host.last_seen_at is None
    assert directory.check_host_credential("h-1", secret + "x") is None
    assert directory.check_host_credential("h-1", "") is None
    assert directory.check_host_credential("h-2", secret) is None
    assert directory.check_host_credential("bad id", secret) is None
    assert directory.check_host_credential("h-1", "ü" * 10) is None
    # Checking records nothing; the relay records a control channel's arrival apart.
    stored = directory.get_host("h-1")
    assert stored is not None and stored.last_seen_at is None
    card = LanCard.parse("02-00-5e-00-53-07", "192.0.2.7/24")
    directory.record_host_seen("h-1", NOW + 100, card)
    stored = directory.get_host("h-1")
    assert stored is not None and (stored.last_seen_at, stored.lan) == (NOW + 100, card)
    directory.record_host_seen("h-1", NOW + 200)  # no card reported: the known one stays
    stored = directory.get_host("h-1")
    assert stored is not None and (stored.last_seen_at, stored.lan) == (NOW + 200, card)


def test_changes_written_as_a_group_are_each_all_or_nothing(
    directory: Directory, tenant: str
) -> None:
    def refused_after_a_write() -> None:
        directory.audit("half_done", tenant=tenant, now=NOW)
        directory.audit("Not An Event", now=NOW)  # refused: the record above goes with it

    announced: list[str] = []
    directory.audit_listeners.append(lambda record: announced.append(record.event))
    outcomes = directory.write_group(
        [
            partial(directory.audit, "first", tenant=tenant, now=NOW),
            refused_after_a_write,
            partial(directory.audit, "second", tenant=tenant, now=NOW),
        ]
    )
    assert outcomes[0] is None and outcomes[2] is None
    assert isinstance(outcomes[1], InvalidInput)
    assert [r.event for r in directory.list_audit(tenant)] == ["first", "second"]
    assert announced == ["first", "second"]  # to syslog: only what was committed
    with directory.atomic(), pytest.raises(RuntimeError):  # it commits by itself
        directory.write_group([partial(directory.audit, "nested", tenant=tenant, now=NOW)])
    assert "nested" not in [r.event for r in directory.list_audit(tenant)]


def test_hosts_rename_retire_and_list(directory: Directory, tenant: str) -> None:
    directory.add_tenant("other")
    secret = enrol(directory, tenant, "h-1")
    enrol(directory, tenant, "h-2")
    enrol(directory, "other", "h-3")
    assert [h.host_id for h in directory.list_hosts(tenant)] == ["h-1", "h-2"]
    directory.rename_host(tenant, "h-1", "受付")
    host = directory.get_host("h-1")
    assert host is not None and host.name == "受付"
    with pytest.raises(NotFound):
        directory.rename_host(tenant, "h-3", "not mine")  # another tenant's host
    with pytest.raises(InvalidInput):
        directory.rename_host(tenant, "h-1", "")
    directory.retire_host(tenant, "h-1")
    assert directory.check_host_credential("h-1", secret) is None
    assert [h.host_id for h in directory.list_hosts(tenant)] == ["h-2"]
    assert len(directory.list_hosts(tenant, include_retired=True)) == 2
    with pytest.raises(NotFound):
        directory.retire_host(tenant, "h-1")
    with pytest.raises(NotFound):
        directory.list_hosts("nowhere")
    assert directory.get_host("nope") is None


# --- grants -------------------------------------------------------------------------------------


def test_grants_and_tenant_isolation(directory: Directory, tenant: str) -> None:
    directory.add_tenant("other")
    directory.add_user(tenant, "taro")
    directory.add_user("other", "taro")
    enrol(directory, tenant, "mine")
    enrol(directory, "other", "theirs")
    directory.grant(tenant, "taro", "mine")
    directory.grant(tenant, "taro", "mine")  # idempotent
    assert directory.is_granted(tenant, "taro", "mine")
    assert not directory.is_granted("other", "taro", "mine")
    assert not directory.is_granted(tenant, "taro", "theirs")
    with pytest.raises(NotFound, match="no host"):
        directory.grant(tenant, "taro", "theirs")
    with pytest.raises(NotFound, match="no user"):
        directory.grant(tenant, "ghost", "mine")
    with pytest.raises(NotFound, match="no tenant"):
        directory.grant("nowhere", "taro", "mine")
    assert directory.list_grants(tenant) == [("taro", "mine")]
    assert directory.list_grants("other") == []
    assert directory.revoke(tenant, "taro", "mine")
    assert not directory.revoke(tenant, "taro", "mine")
    assert not directory.is_granted(tenant, "taro", "mine")


def test_lists_come_in_pages(directory: Directory, tenant: str) -> None:
    """Staff by login, office PCs by name then ID, grants by login then office PC: a page is
    the rows after a cursor, at most ``limit``; together the pages are the whole list."""
    directory.add_tenant("other")
    for login in ("d", "b", "a", "c", "e"):
        directory.add_user(tenant, login)
    directory.add_user("other", "aa")
    for host_id, name in (("h-3", "PC"), ("h-1", "PC"), ("h-2", "A"), ("h-4", "Z"), ("h-5", "PC")):
        enrol(directory, tenant, host_id)
        directory.rename_host(tenant, host_id, name)
    enrol(directory, "other", "h-9")
    directory.retire_host(tenant, "h-5")
    for login, host_id in (("b", "h-2"), ("a", "h-3"), ("a", "h-1"), ("c", "h-1"), ("e", "h-4")):
        directory.grant(tenant, login, host_id)

    assert [u.login for u in directory.list_users(tenant)] == ["a", "b", "c", "d", "e"]
    assert [u.login for u in directory.list_users(tenant, limit=2)] == ["a", "b"]
    assert [u.login for u in directory.list_users(tenant, after="b", limit=2)] == ["c", "d"]
    assert [u.login for u in directory.list_users(tenant, after="e", limit=2)] == []
    assert [u.login for u in directory.list_users(tenant, after="bb")] == ["c", "d", "e"]

    assert [h.host_id for h in directory.list_hosts(tenant)] == ["h-2", "h-1", "h-3", "h-4"]
    assert [h.host_id for h in directory.list_hosts(tenant, limit=2)] == ["h-2", "h-1"]
    page = directory.list_hosts(tenant, after="h-1", limit=2)
    assert [h.host_id for h in page] == ["h-3", "h-4"]
    every = directory.list_hosts(tenant, include_retired=True, after="h-3")
    assert [h.host_id for h in every] == ["h-5", "h-4"]
    with pytest.raises(NotFound):
        directory.list_hosts(tenant, after="h-9")  # another tenant's office PC
    with pytest.raises(InvalidInput):
        directory.list_hosts(tenant, after="not an id")

    pairs = [("a", "h-1"), ("a", "h-3"), ("b", "h-2"), ("c", "h-1"), ("e", "h-4")]
    assert directory.list_grants(tenant) == pairs
    assert directory.list_grants(tenant, limit=3) == pairs[:3]
    assert directory.list_grants(tenant, after=("a", "h-1"), limit=2) == pairs[1:3]
    assert directory.list_grants(tenant, after=("a", "h-3")) == pairs[2:]
    assert directory.list_grants(tenant, after=("e", "h-4")) == []
    assert directory.hosts_affected_by_user(tenant, "a") == ["h-1", "h-3"]
    assert directory.hosts_affected_by_user(tenant, "d") == []
    assert directory.hosts_affected_by_user(tenant, "ghost") == []

    for bad in (0, -1, MAX_PAGE_ROWS + 1, True, 2.0):
        with pytest.raises(InvalidInput):
            directory.list_users(tenant, limit=bad)  # type: ignore[arg-type]
        with pytest.raises(InvalidInput):
            directory.list_hosts(tenant, limit=bad)  # type: ignore[arg-type]
        with pytest.raises(InvalidInput):
            directory.list_grants(tenant, limit=bad)  # type: ignore[arg-type]


def test_last_session_by_host(directory: Directory, tenant: str) -> None:
    for ts, host_id in ((1.0, "h-1"), (3.0, "h-1"), (2.0, "h-2"), (4.0, "h-3")):
        directory.audit("session_start", tenant=tenant, host_id=host_id, now=ts)
    directory.audit("session_end", tenant=tenant, host_id="h-2", now=9.0)
    directory.audit("session_start", tenant="other", host_id="h-2", now=8.0)
    assert directory.last_session_by_host(tenant) == {"h-1": 3.0, "h-2": 2.0, "h-3": 4.0}
    assert directory.last_session_by_host(tenant, ["h-2", "h-1", "h-9"]) == {
        "h-1": 3.0,
        "h-2": 2.0,
    }
    assert directory.last_session_by_host(tenant, []) == {}


def test_grant_gone_with_retired_host_or_deleted_user(directory: Directory, tenant: str) -> None:
    directory.add_user(tenant, "taro")
    enrol(directory, tenant, "h-1")
    enrol(directory, tenant, "h-2")
    directory.grant(tenant, "taro", "h-1")
    directory.grant(tenant, "taro", "h-2")
    directory.retire_host(tenant, "h-1")
    assert not directory.is_granted(tenant, "taro", "h-1")
    directory.delete_user(tenant, "taro")
    directory.add_user(tenant, "taro")
    assert not directory.is_granted(tenant, "taro", "h-2")


# --- resume tickets -----------------------------------------------------------------------------


@pytest.fixture
def granted(directory: Directory, tenant: str) -> str:
    directory.add_user(tenant, "taro")
    enrol(directory, tenant, "h-1")
    directory.grant(tenant, "taro", "h-1")
    return tenant


def test_resume_ticket(directory: Directory, granted: str) -> None:
    ticket = directory.issue_resume_ticket(granted, "taro", "h-1", "dev-1", 600, NOW)
    redeemed = directory.redeem_resume_ticket(ticket, "h-1", "dev-1", NOW + 10)
    assert redeemed == (granted, "taro", NOW, NOW + 600)  # its chain began with this issue
    assert directory.redeem_resume_ticket(ticket, "h-1", "dev-1", NOW + 10) is None


def test_a_chain_of_tickets_ends_max_otp_free_s_after_its_otp_login(
    directory: Directory, granted: str
) -> None:
    """Resumed logins pass their chain on, and renewals cannot stretch it: a stolen ticket and
    device key are good for at most MAX_OTP_FREE_S after the OTP login."""
    ticket = directory.issue_resume_ticket(granted, "taro", "h-1", "dev", 600, NOW)
    at = NOW
    while at + 3600 < NOW + MAX_OTP_FREE_S:  # a session renewing its ticket, resumed hourly
        for _ in range(11):
            at += 300
            assert directory.set_resume_ticket_expiry(ticket, at + 600, at)
        at += 300
        redeemed = directory.redeem_resume_ticket(ticket, "h-1", "dev", at)
        assert redeemed is not None and redeemed.chain_started_at == NOW
        ticket = directory.issue_resume_ticket(
            granted, "taro", "h-1", "dev", 600, at, chain_started_at=redeemed.chain_started_at
        )
    late = NOW + MAX_OTP_FREE_S - 60
    while at < late:
        at = min(at + 300, late)
        assert directory.set_resume_ticket_expiry(ticket, at + 600, at)  # the last one capped
    assert directory.redeem_resume_ticket(ticket, "h-1", "dev", NOW + MAX_OTP_FREE_S) is None
    handed_back = directory.issue_resume_ticket(
        granted, "taro", "h-1", "dev", 600, late, chain_started_at=NOW, expires_at=late + 10
    )
    assert directory.redeem_resume_ticket(handed_back, "h-1", "dev", late + 20) is None


@pytest.mark.parametrize(
    "new_credentials",
    [
        lambda d, t: d.reset_totp(t, "taro"),
        lambda d, t: d.issue_codes(t, "taro", 3),
        lambda d, t: d.set_user_disabled(t, "taro", True),
        lambda d, t: d.revoke_staff_credentials(t, "taro"),
    ],
    ids=["new authenticator", "new code sheet", "disabled", "credentials reset"],
)
def test_new_credentials_or_a_disabled_user_end_every_ticket(
    directory: Directory, granted: str, new_credentials
) -> None:
    ticket = directory.issue_resume_ticket(granted, "taro", "h-1", "dev", 600, NOW)
    new_credentials(directory, granted)
    directory.set_user_disabled(granted, "taro", False)
    assert directory.redeem_resume_ticket(ticket, "h-1", "dev", NOW + 1) is None


@pytest.mark.parametrize(
    ("host_id", "device", "at"),
    [("h-2", "dev-1", NOW), ("h-1", "dev-2", NOW), ("h-1", "dev-1", NOW + 600)],
)
def test_resume_ticket_mismatch_uses_it_up(
    directory: Directory, granted: str, host_id: str, device: str, at: float
) -> None:
    ticket = directory.issue_resume_ticket(granted, "taro", "h-1", "dev-1", 600, NOW)
    assert directory.redeem_resume_ticket(ticket, host_id, device, at) is None
    assert directory.redeem_resume_ticket(ticket, "h-1", "dev-1", NOW) is None


def test_resume_ticket_needs_live_user_and_grant(directory: Directory, granted: str) -> None:
    first = directory.issue_resume_ticket(granted, "taro", "h-1", "dev", 600, NOW)
    second = directory.issue_resume_ticket(granted, "taro", "h-1", "dev", 600, NOW)
    directory.revoke(granted, "taro", "h-1")
    assert directory.redeem_resume_ticket(first, "h-1", "dev", NOW) is None
    directory.grant(granted, "taro", "h-1")
    directory.set_user_disabled(granted, "taro", True)
    assert directory.redeem_resume_ticket(second, "h-1", "dev", NOW) is None


def test_resume_ticket_errors(directory: Directory, granted: str) -> None:
    with pytest.raises(NotFound):
        directory.issue_resume_ticket(granted, "ghost", "h-1", "dev", 60, NOW)
    with pytest.raises(InvalidInput):
        directory.issue_resume_ticket(granted, "taro", "h-1", "", 60, NOW)
    with pytest.raises(InvalidInput):
        directory.issue_resume_ticket(granted, "taro", "h-1", "dev", 0, NOW)
    assert directory.redeem_resume_ticket("junk", "h-1", "dev", NOW) is None
    assert directory.redeem_resume_ticket(None, "h-1", "dev", NOW) is None  # type: ignore[arg-type]


def test_resume_ticket_used_once_under_threads(directory: Directory, granted: str) -> None:
    ticket = directory.issue_resume_ticket(granted, "taro", "h-1", "dev", 600, NOW)
    results = race(8, lambda: directory.redeem_resume_ticket(ticket, "h-1", "dev", NOW))
    assert results.count((granted, "taro", NOW, NOW + 600)) == 1
    assert results.count(None) == 7


# --- audit --------------------------------------------------------------------------------------


def test_audit_and_filters(directory: Directory) -> None:
    directory.audit("login.ok", tenant="a", user="taro", host_id="h", source="10.0.0.1", now=1.0)
    directory.audit("login.refused", tenant="a", user="ghost", detail={"why": "otp"}, now=2.0)
    directory.audit("session.end", tenant="b", detail={"bytes": [1, 2]}, now=3.0)
    records = directory.list_audit()
    assert [r.event for r in records] == ["login.ok", "login.refused", "session.end"]
    first = records[0]
    assert (first.tenant, first.user, first.host_id, first.source, first.detail) == (
        "a",
        "taro",
        "h",
        "10.0.0.1",
        {},
    )
    assert records[2].detail == {"bytes": [1, 2]}
    assert [r.ts for r in directory.list_audit(tenant="a")] == [1.0, 2.0]
    assert [r.ts for r in directory.list_audit(since=2.0)] == [2.0, 3.0]
    assert [r.ts for r in directory.list_audit(until=2.0)] == [1.0]
    assert [r.ts for r in directory.list_audit(user="ghost")] == [2.0]
    assert [r.ts for r in directory.list_audit(host_id="h")] == [1.0]
    assert [r.ts for r in directory.list_audit(event="session.end")] == [3.0]
    assert [r.ts for r in directory.list_audit(limit=2)] == [2.0, 3.0]  # newest two, in order


def test_audit_pages_are_what_list_audit_answers_a_page_at_a_time(directory: Directory) -> None:
    for i in range(23):
        event = ("session_start", "session_end", "otp_used")[i % 3]
        directory.audit(event, tenant="a" if i % 4 else "b", user=f"u{i % 2}", now=float(i))
    for filters in (
        {},
        {"tenant": "a"},
        {"tenant": "a", "limit": 7},
        {"tenant": "a", "user": "u1", "since": 3.0, "until": 20.0},
        {"limit": 1},
        {"tenant": "nobody"},
    ):
        whole = directory.list_audit(**filters)  # type: ignore[arg-type]
        pages = list(directory.audit_pages(**filters, page_rows=3))  # type: ignore[arg-type]
        assert [r for page in pages for r in page] == whole, filters
        assert all(1 <= len(page) <= 3 for page in pages)
    starts_and_ends = [
        r
        for page in directory.audit_pages(events=["session_start", "session_end"], page_rows=4)
        for r in page
    ]
    assert [r.ts for r in starts_and_ends] == [float(i) for i in range(23) if i % 3 != 2]
    # Records written while the pages are read are not among them.
    pages = directory.audit_pages(tenant="a", page_rows=5)
    first = next(pages)
    directory.audit("otp_used", tenant="a", now=99.0)
    rest = [r for page in pages for r in page]
    assert [r.ts for r in first + rest] == [r.ts for r in directory.list_audit(tenant="a")][:-1]
    with pytest.raises(InvalidInput):
        next(directory.audit_pages(limit=0))
    with pytest.raises(InvalidInput):
        next(directory.audit_pages(page_rows=0))


def test_audit_input(directory: Directory) -> None:
    for event in ("", "Has Space", "x" * 65, None):
        with pytest.raises(InvalidInput):
            directory.audit(event, now=1.0)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        directory.audit("e", detail={"x": object()}, now=1.0)
    with pytest.raises(InvalidInput):
        directory.audit("e", detail={"x": "y" * 10_000}, now=1.0)
    with pytest.raises(InvalidInput):
        directory.list_audit(limit=0)
    directory.audit("e", tenant="t" * 500, user="u" * 500, source="s" * 500, now=1.0)
    (record,) = directory.list_audit()
    assert record.tenant is not None and len(record.tenant) == MAX_TENANT_NAME_LEN


def test_audit_survives_reopen(data_dir: Path, database_url: str | None) -> None:
    with Directory.open(data_dir, database=database_url) as directory:
        directory.audit("session.end", tenant="t", detail={"bytes": 42}, now=5.0)
    with Directory.open(data_dir, database=database_url) as directory:
        (record,) = directory.list_audit()
    assert record.event == "session.end" and record.detail == {"bytes": 42}


def test_audit_is_committed_at_once(data_dir: Path) -> None:
    """A record is visible to another connection as soon as audit() returns (no pending txn)."""
    with Directory.open(data_dir) as directory:
        directory.audit("x", now=1.0)
        conn = sqlite3.connect(data_dir / DB_FILENAME)
        try:
            assert conn.execute("SELECT count(*) FROM audit").fetchone()[0] == 1
        finally:
            conn.close()


def test_no_token_starts_with_a_dash_that_a_command_line_would_read_as_an_option() -> None:
    """``telework-host --enroll TOKEN``: 1 in 64 urlsafe tokens began with "-" and failed."""
    from relay.store.tokens import new_token

    assert not any(new_token().startswith("-") for _ in range(5000))


# --- staff names ---------------------------------------------------------------------------------


def test_full_name_and_department_are_kept_and_changed(directory: Directory, tenant: str) -> None:
    user, _ = directory.add_user(tenant, "taro", full_name="山田 太郎", department="税務課")
    assert (user.full_name, user.department) == ("山田 太郎", "税務課")
    assert directory.get_user(tenant, "taro") == user
    plain, _ = directory.add_user(tenant, "jiro")
    assert (plain.full_name, plain.department) == ("", "")
    changed = directory.set_user_names(tenant, "taro", department="市民課 窓口係")
    assert (changed.full_name, changed.department) == ("山田 太郎", "市民課 窓口係")
    cleared = directory.set_user_names(tenant, "taro", full_name="")
    assert (cleared.full_name, cleared.department) == ("", "市民課 窓口係")
    assert [u.department for u in directory.list_users(tenant)] == ["", "市民課 窓口係"]
    # Half-width katakana are stored as full-width, as NFKC does for logins.
    assert directory.set_user_names(tenant, "jiro", full_name="ﾀﾛｳ").full_name == "タロウ"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("full_name", "x" * (MAX_FULL_NAME_LEN + 1)),
        ("department", "x" * (MAX_DEPARTMENT_LEN + 1)),
        ("full_name", "山田\n太郎"),
        ("department", "税務課\x00"),
        ("full_name", " 山田"),
        ("department", "税務\u200b課"),
    ],
)
def test_bad_names_are_refused_and_change_nothing(
    directory: Directory, tenant: str, field: str, value: str
) -> None:
    with pytest.raises(InvalidInput):
        directory.add_user(tenant, "taro", **{field: value})
    assert directory.get_user(tenant, "taro") is None
    directory.add_user(tenant, "taro", full_name="山田 太郎", department="税務課")
    with pytest.raises(InvalidInput):
        directory.set_user_names(tenant, "taro", **{field: value})
    user = directory.get_user(tenant, "taro")
    assert user is not None and (user.full_name, user.department) == ("山田 太郎", "税務課")
    with pytest.raises(NotFound):
        directory.set_user_names(tenant, "nobody", full_name="x")
