"""``telework-relay manage``: the local operator CLI for a relay's data directory.

Works while the relay runs (SQLite in WAL mode or PostgreSQL; writers wait for each other).
Every action is written to the audit log, a change in the same transaction as its record (both
are committed or neither is; a refused one is recorded apart, after its rollback). Secrets
(TOTP seeds, one-time codes, enrolment tokens) are printed exactly once, here, and stored only
sealed or hashed. Errors print one line to stderr and exit with status 2; ``--json`` prints one
JSON object on stdout instead of text.

Also runnable as ``python -m relay.manage --data-dir DIR ...``.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import getpass
import json
import sys
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from core.admin_api import ADMIN_TOTP_ISSUER, TENANT_ROLES, AdminRole
from core.auth.totp import provisioning_uri
from core.crypto.certs import fingerprint, parse_host_id
from core.errors import Error
from relay.settings import RELAY_COMMON_NAME, RELAY_IDENTITY_STEM
from relay.store.database import checked_url
from relay.store.directory import Directory
from relay.store.hosts import MAX_ENROLLMENT_TTL_S
from storage.identity import load_or_create_identity

PROG = "telework-relay manage"
# Issuer shown by authenticator apps next to the account.
TOTP_ISSUER = "Telework"
# Default life of a host enrolment token: long enough to walk to the office PC the next day.
DEFAULT_HOST_TOKEN_TTL_HOURS = 24.0
MAX_HOST_TOKEN_TTL_HOURS = MAX_ENROLLMENT_TTL_S / 3600
# Records `audit` shows by default: a screenful; --limit asks for more.
DEFAULT_AUDIT_SHOW = 50
# Exit status for any refused command (argparse uses the same for usage errors).
EXIT_ERROR = 2
# How this CLI names itself in the audit log's source column.
AUDIT_SOURCE = "manage-cli"


class ManageError(Error):
    """An operator mistake caught by the CLI itself (e.g. a missing data directory)."""


@dataclass
class Outcome:
    """What an action reports: a JSON object and the text lines for a person."""

    result: dict[str, Any]
    lines: list[str] = field(default_factory=list)


Action = Callable[[Directory, argparse.Namespace, float], Outcome]


# --- actions ------------------------------------------------------------------------------------


def _tenant_add(directory: Directory, args: argparse.Namespace, now: float) -> Outcome:
    tenant = directory.add_tenant(args.name, now=now)
    _audit(directory, "manage.tenant_add", now, tenant=tenant.name)
    return Outcome(
        {"tenant": tenant.name, "created_at": tenant.created_at}, [f"tenant {tenant.name} added"]
    )


def _user_add(directory: Directory, args: argparse.Namespace, now: float) -> Outcome:
    user, secret = directory.add_user(args.tenant, args.login, now=now)
    uri = provisioning_uri(secret, f"{user.login}@{user.tenant}", TOTP_ISSUER)
    _audit(directory, "manage.user_add", now, tenant=user.tenant, user=user.login)
    return Outcome(
        {"tenant": user.tenant, "login": user.login, "totp_secret": secret, "otpauth_uri": uri},
        [
            f"user {user.login} added to tenant {user.tenant}",
            f"TOTP secret: {secret}",
            f"otpauth URI: {uri}",
            "(shown once: give it to the user now, e.g. as a QR code of the URI)",
        ],
    )


def _user_codes(directory: Directory, args: argparse.Namespace, now: float) -> Outcome:
    codes = directory.issue_codes(args.tenant, args.login, args.count, now=now)
    user = directory.get_user(args.tenant, args.login)
    tenant, login = (user.tenant, user.login) if user else (args.tenant, args.login)
    _audit(
        directory, "manage.user_codes", now, tenant=tenant, user=login, detail={"count": len(codes)}
    )
    return Outcome(
        {"tenant": tenant, "login": login, "codes": codes},
        [
            f"{len(codes)} single-use codes for {login} in {tenant}"
            " (earlier unused codes revoked):",
            *codes,
        ],
    )


def _host_token(directory: Directory, args: argparse.Namespace, now: float) -> Outcome:
    hours = args.ttl_hours
    if not 0 < hours <= MAX_HOST_TOKEN_TTL_HOURS:
        raise ManageError(
            f"--ttl-hours must be more than 0 and at most {MAX_HOST_TOKEN_TTL_HOURS:g}"
        )
    ttl_s = hours * 3600
    token = directory.issue_enrollment_token(args.tenant, ttl_s, now)
    tenant = directory.get_tenant(args.tenant)
    name = tenant.name if tenant else args.tenant
    expires_at = now + ttl_s
    _audit(directory, "manage.host_token", now, tenant=name, detail={"expires_at": expires_at})
    return Outcome(
        {"tenant": name, "token": token, "expires_at": expires_at},
        [f"enrolment token for tenant {name} (single use, expires {_when(expires_at)}):", token],
    )


def _grant(directory: Directory, args: argparse.Namespace, now: float) -> Outcome:
    args.host_id = parse_host_id(args.host_id)  # accept the grouped form admins write down
    directory.grant(args.tenant, args.login, args.host_id, now=now)
    user = directory.get_user(args.tenant, args.login)
    tenant, login = (user.tenant, user.login) if user else (args.tenant, args.login)
    _audit(directory, "manage.grant", now, tenant=tenant, user=login, host_id=args.host_id)
    return Outcome(
        {"tenant": tenant, "login": login, "host_id": args.host_id, "granted": True},
        [f"{login} in {tenant} may now use host {args.host_id}"],
    )


def _can_wake(directory: Directory, args: argparse.Namespace, now: float) -> Outcome:
    args.host_id = parse_host_id(args.host_id)
    can_wake = not args.off
    directory.set_host_can_wake(args.tenant, args.host_id, can_wake)
    detail = {"can_wake": can_wake}
    _audit(
        directory,
        "manage.host_can_wake",
        now,
        tenant=args.tenant,
        host_id=args.host_id,
        detail=detail,
    )
    verdict = "may now wake" if can_wake else "may no longer wake"
    return Outcome(
        {"host_id": args.host_id, "can_wake": can_wake},
        [f"host {args.host_id} {verdict} other office PCs of its LAN"],
    )


def _admin_add(directory: Directory, args: argparse.Namespace, now: float) -> Outcome:
    if args.role is not None and args.tenant is None:
        raise ManageError("--role is a tenant admin's role: give --tenant, not --operator")
    role = AdminRole.OPERATOR if args.tenant is None else args.role or AdminRole.TENANT_ADMIN
    admin, password, secret = directory.add_admin(args.login, args.tenant, role=role, now=now)
    account = admin.login if admin.tenant is None else f"{admin.login}@{admin.tenant}"
    uri = provisioning_uri(secret, account, ADMIN_TOTP_ISSUER)
    _audit(
        directory,
        "manage.admin_add",
        now,
        tenant=admin.tenant,
        detail={"admin": admin.login, "role": admin.role.value},
    )
    return Outcome(
        {
            "login": admin.login,
            "role": admin.role.value,
            "tenant": admin.tenant,
            "password": password,
            "totp_secret": secret,
            "otpauth_uri": uri,
        },
        [
            f"{admin.role.value.replace('_', ' ')} {admin.login} added"
            + ("" if admin.tenant is None else f" for tenant {admin.tenant}"),
            f"initial password: {password}",
            f"TOTP secret: {secret}",
            f"otpauth URI: {uri}",
            "(shown once: hand them over in person)",
        ],
    )


def _admin_list(directory: Directory, args: argparse.Namespace, now: float) -> Outcome:
    admins = directory.list_admins(args.tenant)
    rows = [{**dataclasses.asdict(a), "role": a.role.value} for a in admins]
    lines = [
        f"{_printable(a.login)} {a.role.value}"
        + ("" if a.tenant is None else f" tenant={_printable(a.tenant)}")
        + (" disabled" if a.disabled else "")
        + f" last sign-in {'never' if a.last_login_at is None else _when(a.last_login_at)}"
        for a in admins
    ] or ["no admins"]
    return Outcome({"admins": rows}, lines)


def _admin_change(event: str, change: Callable[[Directory, argparse.Namespace], Any]) -> Action:
    """An action on one admin (``args.login``): ``change(directory, args)`` returns the admin
    (or a tuple starting with it, then the new secret or the count of sign-ins ended), audited
    as ``manage.<event>`` in the same transaction."""

    def act(directory: Directory, args: argparse.Namespace, now: float) -> Outcome:
        result = change(directory, args)
        admin, extra = (result[0], result[1]) if isinstance(result, tuple) else (result, None)
        detail: dict[str, Any] = {"admin": admin.login}
        if event == "admin_role":
            detail["role"] = admin.role.value
        if event == "admin_sign_out":
            detail["sign_ins_ended"] = extra
        _audit(directory, f"manage.{event}", now, tenant=admin.tenant, detail=detail)
        answer: dict[str, Any] = {"login": admin.login, "role": admin.role.value}
        lines = [f"admin {admin.login}: {event.removeprefix('admin_').replace('_', ' ')} done"]
        if event == "admin_password_reset":
            answer["password"] = extra
            lines += [f"new password: {extra}", "(shown once: hand it over in person)"]
        elif event == "admin_totp_reset":
            account = admin.login if admin.tenant is None else f"{admin.login}@{admin.tenant}"
            uri = provisioning_uri(str(extra), account, ADMIN_TOTP_ISSUER)
            answer.update(totp_secret=extra, otpauth_uri=uri)
            lines += [f"TOTP secret: {extra}", f"otpauth URI: {uri}", "(shown once)"]
        elif event == "admin_sign_out":
            answer["sign_ins_ended"] = extra
            lines.append(f"{extra} sign-ins ended")
        if event != "admin_sign_out" and event != "admin_enable":
            lines.append("their sign-ins have ended, on every relay node")
        return Outcome(answer, lines)

    act.__name__ = f"_{event}"
    return act


_admin_disable = _admin_change("admin_disable", lambda d, a: d.set_admin_disabled(a.login, True))
_admin_enable = _admin_change("admin_enable", lambda d, a: d.set_admin_disabled(a.login, False))
_admin_delete = _admin_change("admin_delete", lambda d, a: d.delete_admin(a.login))
_admin_role = _admin_change("admin_role", lambda d, a: d.set_admin_role(a.login, a.role))
_admin_password = _admin_change(
    "admin_password_reset", lambda d, a: d.reset_admin_password(a.login)
)
_admin_totp = _admin_change("admin_totp_reset", lambda d, a: d.reset_admin_totp(a.login))
_admin_sign_out = _admin_change("admin_sign_out", lambda d, a: d.end_admin_sign_ins(a.login))


def _fingerprint(directory: Directory, args: argparse.Namespace, now: float) -> Outcome:
    identity = load_or_create_identity(args.data_dir, RELAY_IDENTITY_STEM, RELAY_COMMON_NAME)
    value = fingerprint(identity.cert_der)
    return Outcome({"fingerprint": value}, [value])


def _nodes(directory: Directory, args: argparse.Namespace, now: float) -> Outcome:
    """The cluster's live relay nodes and their load (from their last heartbeats)."""
    nodes = directory.live_nodes(now)
    rows = [
        {**dataclasses.asdict(node), "heartbeat_age_s": round(now - node.heartbeat_at, 1)}
        for node in nodes
    ]
    lines = [
        f"{n.node_id} {n.address} office PCs {n.hosts}/{n.max_hosts} sessions {n.sessions}"
        + (" draining" if n.draining else "")
        for n in nodes
    ] or ["no live relay nodes (a relay without --node-id is not listed)"]
    return Outcome({"nodes": rows}, lines)


def _audit_show(directory: Directory, args: argparse.Namespace, now: float) -> Outcome:
    records = directory.list_audit(tenant=args.tenant, limit=args.limit)
    try:
        _audit(
            directory,
            "manage.audit_read",
            now,
            tenant=args.tenant,
            detail={"limit": args.limit, "returned": len(records)},
        )
    except sa.exc.OperationalError as exc:
        # Reading must work when writing does not (a full disk is when the log is needed).
        print(f"{PROG}: warning: this read is not in the audit log: {exc.orig}", file=sys.stderr)
    rows = [dataclasses.asdict(r) for r in records]
    lines = []
    for r in records:
        fields = [_when(r.ts), r.event]
        for label, value in (
            ("tenant", r.tenant),
            ("user", r.user),
            ("host", r.host_id),
            ("source", r.source),
        ):
            if value is not None:
                fields.append(f"{label}={_printable(value)}")
        if r.detail:
            fields.append(_printable(json.dumps(r.detail, ensure_ascii=False, sort_keys=True)))
        lines.append(" ".join(fields))
    return Outcome({"records": rows}, lines)


# Actions that change nothing in the directory (``audit`` records that it was read, but shows
# the records even when that record cannot be written, as on a full disk).
_READS: frozenset[Action] = frozenset({_fingerprint, _audit_show, _admin_list})


# --- parser -------------------------------------------------------------------------------------


def _database_url(text: str) -> str:
    try:
        checked_url(text)
    except Error as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def add_database_option(parser: argparse.ArgumentParser) -> None:
    """The ``--database`` option ``serve`` and ``manage`` share."""
    parser.add_argument(
        "--database",
        type=_database_url,
        default=None,
        metavar="URL",
        help="the directory database, e.g. postgresql://telework@db.example/telework for one "
        "shared by several relays (password from ~/.pgpass or PGPASSFILE); default: the "
        "SQLite file in --data-dir",
    )


def add_manage_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``manage`` sub-command to ``telework-relay``'s sub-parsers."""
    parser = subparsers.add_parser(
        "manage",
        help="administer tenants, users, hosts and grants",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    configure_parser(parser)


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Put the manage options and actions on ``parser``."""
    parser.add_argument(
        "--data-dir",
        type=Path,
        required=True,
        help="the relay's data directory (holds the directory database and its key)",
    )
    add_database_option(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    actions = parser.add_subparsers(dest="manage_action", required=True, metavar="ACTION")

    tenant = actions.add_parser("tenant", help="manage tenants (municipalities)")
    tenant_actions = tenant.add_subparsers(dest="manage_tenant_action", required=True)
    tenant_add = tenant_actions.add_parser("add", help="add a tenant")
    tenant_add.add_argument("name")
    tenant_add.set_defaults(manage_handler=_tenant_add)

    user = actions.add_parser("user", help="manage staff users")
    user_actions = user.add_subparsers(dest="manage_user_action", required=True)
    user_add = user_actions.add_parser("add", help="add a user; prints their TOTP secret")
    user_add.add_argument("--tenant", required=True)
    user_add.add_argument("login")
    user_add.set_defaults(manage_handler=_user_add)
    user_codes = user_actions.add_parser(
        "codes", help="issue single-use codes (replaces the user's unused ones)"
    )
    user_codes.add_argument("--tenant", required=True)
    user_codes.add_argument("--count", type=int, required=True)
    user_codes.add_argument("login")
    user_codes.set_defaults(manage_handler=_user_codes)

    host_token = actions.add_parser("host-token", help="issue a host enrolment token")
    host_token.add_argument("--tenant", required=True)
    host_token.add_argument(
        "--ttl-hours",
        type=float,
        default=DEFAULT_HOST_TOKEN_TTL_HOURS,
        help=f"lifetime (default {DEFAULT_HOST_TOKEN_TTL_HOURS:g}, "
        f"at most {MAX_HOST_TOKEN_TTL_HOURS:g})",
    )
    host_token.set_defaults(manage_handler=_host_token)

    grant = actions.add_parser("grant", help="let a user use a host of the same tenant")
    grant.add_argument("--tenant", required=True)
    grant.add_argument("login")
    grant.add_argument("host_id")
    grant.set_defaults(manage_handler=_grant)

    can_wake = actions.add_parser(
        "can-wake", help="let an office PC wake others of its LAN (Wake-on-LAN), or stop it"
    )
    can_wake.add_argument("--tenant", required=True)
    can_wake.add_argument("host_id")
    can_wake.add_argument("--off", action="store_true", help="stop it waking others")
    can_wake.set_defaults(manage_handler=_can_wake)

    admin = actions.add_parser("admin", help="manage console administrators")
    admin_actions = admin.add_subparsers(dest="manage_admin_action", required=True)
    admin_add = admin_actions.add_parser(
        "add", help="add an operator or a tenant admin; prints the initial password and TOTP"
    )
    admin_role = admin_add.add_mutually_exclusive_group(required=True)
    admin_role.add_argument(
        "--operator",
        action="store_const",
        dest="tenant",
        const=None,
        help="a relay operator (every tenant)",
    )
    admin_role.add_argument("--tenant", help="an admin of this tenant only (see --role)")
    admin_add.add_argument(
        "--role",
        choices=[role.value for role in TENANT_ROLES],
        help="with --tenant: tenant_admin (default), auditor (reads only) or helpdesk (staff "
        "one-time passwords and authenticators only)",
    )
    admin_add.add_argument("login")
    admin_add.set_defaults(manage_handler=_admin_add)
    admin_list = admin_actions.add_parser("list", help="list the admins (of one tenant)")
    admin_list.add_argument("--tenant")
    admin_list.set_defaults(manage_handler=_admin_list)
    for name, handler, help_text in (
        ("disable", _admin_disable, "disable an admin; their sign-ins end at once"),
        ("enable", _admin_enable, "enable a disabled admin"),
        ("delete", _admin_delete, "delete an admin; their sign-ins end at once"),
        (
            "reset-password",
            _admin_password,
            "give an admin a new password (printed once); their sign-ins end",
        ),
        (
            "reset-totp",
            _admin_totp,
            "give an admin a new TOTP authenticator (printed once); their sign-ins end",
        ),
        ("sign-out", _admin_sign_out, "end every sign-in of an admin, on every relay node"),
    ):
        action = admin_actions.add_parser(name, help=help_text)
        action.add_argument("login")
        action.set_defaults(manage_handler=handler)
    role = admin_actions.add_parser(
        "role", help="give a tenant's admin another role; their sign-ins end"
    )
    role.add_argument("login")
    role.add_argument("role", choices=[role.value for role in TENANT_ROLES])
    role.set_defaults(manage_handler=_admin_role)

    fp = actions.add_parser(
        "fingerprint",
        help="print the relay certificate's SHA-256 fingerprint, as --relay-fingerprint takes it",
    )
    fp.set_defaults(manage_handler=_fingerprint)

    nodes = actions.add_parser("nodes", help="list the cluster's live relay nodes and their load")
    nodes.set_defaults(manage_handler=_nodes)
    audit = actions.add_parser("audit", help="show the newest audit records")
    audit.add_argument("--tenant")
    audit.add_argument("--limit", type=int, default=DEFAULT_AUDIT_SHOW)
    audit.set_defaults(manage_handler=_audit_show)


# --- running ------------------------------------------------------------------------------------


def run_manage(args: argparse.Namespace) -> int:
    """Run the parsed manage command; returns the exit status."""
    handler: Action = args.manage_handler
    try:
        data_dir: Path = args.data_dir
        if not data_dir.is_dir():
            raise ManageError(f"data directory {data_dir} does not exist")
        with Directory.open(data_dir, database=args.database) as directory:
            now = time.time()
            try:
                with _transaction(directory, handler):
                    outcome = handler(directory, args, now)
            except Error as exc:
                # Refused operator actions are audited too (what was tried, and why not).
                action = handler.__name__.lstrip("_")
                _audit(
                    directory,
                    "manage.refused",
                    now,
                    detail={"action": action, "error": str(exc)[:500]},
                )
                raise
    except (Error, OSError) as exc:
        return _fail(str(exc) or type(exc).__name__)
    except sa.exc.SQLAlchemyError as exc:
        return _fail(f"database error: {type(exc).__name__}: {exc.args[0] if exc.args else ''}")
    if args.json:
        print(json.dumps(outcome.result, ensure_ascii=False))
    else:
        for line in outcome.lines:
            print(line)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    configure_parser(parser)
    return run_manage(parser.parse_args(argv))


def _fail(message: str) -> int:
    print(
        f"{PROG}: error: {_printable(message.splitlines()[0] if message else message)}",
        file=sys.stderr,
    )
    return EXIT_ERROR


def _transaction(directory: Directory, handler: Action) -> AbstractContextManager[None]:
    """What ``handler`` runs in: one transaction for a change and its audit record; none for
    a read, whose record must not hold up (or fail) the reading."""
    return nullcontext() if handler in _READS else directory.atomic()


def _audit(directory: Directory, event: str, now: float, **fields: Any) -> None:
    detail = {"os_user": _os_user(), **fields.pop("detail", {})}
    directory.audit(event, source=AUDIT_SOURCE, detail=detail, now=now, **fields)


def _os_user() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers) and no USER variable
        return None


def _when(ts: float) -> str:
    return datetime.datetime.fromtimestamp(ts).astimezone().isoformat(timespec="seconds")


def _printable(text: str) -> str:
    """``text`` with control characters escaped, so stored names cannot forge terminal output."""
    return "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}" for ch in text)


if __name__ == "__main__":
    sys.exit(main())
