"""Copies of the audit log (logins, refusals, sessions, admin changes, bandwidth alerts) sent to
syslog collectors: the operator's (``serve --syslog``: every record) and each tenant's (set in
the console: the tenant's own records), as RFC 5424 messages (core.syslog) over TLS or UDP
(transport.syslog).

The directory is the record of truth and syslog a copy: a record is copied only once it is
committed (:attr:`Directory.audit_listeners`), from whichever thread wrote it; it is handed to
the event loop and queued per collector, so no login, session or admin action ever waits for a
collector. The tenants' collectors are read from the directory when the relay starts, at once
after an admin of this node changes one, and every ``SYSLOG_REFRESH_S`` (a change made through
another relay node of a cluster).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections import Counter
from collections.abc import Awaitable, Callable

from core.syslog import (
    DEFAULT_FACILITY,
    Facility,
    Severity,
    SyslogDestination,
    SyslogMessage,
    format_message,
)
from relay.store.audit import WrittenRecord
from relay.store.directory import Directory
from transport.syslog import SyslogSender

log = logging.getLogger("telework.relay")

APP_NAME = "telework-relay"
# How often the tenants' collectors are read again from the directory (changes made on other
# nodes of a cluster reach this one within this long).
SYSLOG_REFRESH_S = 60.0
# The name of the operator's collector in metrics; a tenant's is "tenant/<name>".
OPERATOR = "operator"

# Events an operator should look at: refusals, garbage on the wire, alerts, a node lost.
_WARNING_EVENTS = frozenset(
    {"protocol_error", "bad_resume_ticket", "bandwidth_alert", "relay_node_lost"}
)


def severity(event: str) -> Severity:
    """How serious an audit event is, as syslog ranks it."""
    if event in _WARNING_EVENTS or event.endswith("refused"):
        return Severity.WARNING
    if event.startswith(("admin.", "manage.")) or event == "bandwidth_alert_cleared":
        return Severity.NOTICE  # a change an administrator made
    return Severity.INFO


def audit_message(
    record: WrittenRecord, hostname: str, facility: Facility = DEFAULT_FACILITY
) -> bytes:
    """An audit record as an RFC 5424 message: MSGID the event, who in structured data, the
    details (never a secret: see relay/store/audit.py) as JSON in the message."""
    return format_message(
        SyslogMessage(
            facility=facility,
            severity=severity(record.event),
            timestamp=record.ts,
            hostname=hostname,
            app_name=APP_NAME,
            procid=str(os.getpid()),
            msgid=record.event,
            structured={
                "event": record.event,
                "tenant": record.tenant,
                "user": record.user,
                "host": record.host_id,
                "source": record.source,
            },
            msg=record.detail_json,
        )
    )


class SyslogForwarder:
    """The relay's collectors and their senders; fed by the directory's audit listeners."""

    def __init__(
        self,
        directory: Directory,
        db: Callable[..., Awaitable[object]],
        operator: SyslogDestination | None = None,
        *,
        hostname: str | None = None,
        facility: Facility = DEFAULT_FACILITY,
        sender: Callable[[SyslogDestination], SyslogSender] = SyslogSender,
        refresh_s: float = SYSLOG_REFRESH_S,
    ) -> None:
        self.directory = directory
        self._db = db
        self.operator = operator
        self.hostname = hostname or socket.gethostname()
        self.facility = facility
        self._new_sender = sender
        self._refresh_s = refresh_s
        self.senders: dict[str, SyslogSender] = {}  # OPERATOR, or "tenant/<name>"
        self._retired_dropped: Counter[str] = Counter()  # of senders replaced or removed
        self._loop: asyncio.AbstractEventLoop | None = None
        self._refreshing: asyncio.Task[None] | None = None
        self._closing: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Start copying: the operator's collector, the tenants' from the directory."""
        self._loop = asyncio.get_running_loop()
        if self.operator is not None:
            self._add(OPERATOR, self.operator)
        self.directory.audit_listeners.append(self._committed)
        await self.refresh()
        self._refreshing = asyncio.create_task(self._refresh_forever())

    async def close(self) -> None:
        """Stop copying, after sending what waits (each collector for a moment at most)."""
        with contextlib.suppress(ValueError):
            self.directory.audit_listeners.remove(self._committed)
        if self._refreshing is not None:
            self._refreshing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refreshing
        senders, self.senders = list(self.senders.values()), {}
        await asyncio.gather(*(s.close() for s in senders), *self._closing)

    # -- the tenants' collectors ---------------------------------------------------------------

    async def refresh(self) -> None:
        """Follow the tenants' collectors as the directory has them."""
        try:
            stored = await self._db(self.directory.all_syslog)
        except Exception as exc:  # a database outage: keep the collectors we know
            log.warning("syslog: tenants' collectors not read: %s", exc)
            return
        assert isinstance(stored, dict)
        wanted = {f"tenant/{tenant}": dest for tenant, dest in stored.items()}
        for name in [n for n in self.senders if n != OPERATOR and n not in wanted]:
            self._remove(name)
        for name, destination in wanted.items():
            self.set_collector(name, destination)

    def set_tenant(self, tenant: str, destination: SyslogDestination | None) -> None:
        """The tenant's collector changed (an admin of this node): follow it now."""
        name = f"tenant/{tenant}"
        if destination is None:
            self._remove(name)
        else:
            self.set_collector(name, destination)

    def set_collector(self, name: str, destination: SyslogDestination) -> None:
        current = self.senders.get(name)
        if current is not None and current.destination == destination:
            return
        if current is not None:
            self._remove(name)
        self._add(name, destination)

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(self._refresh_s)
            await self.refresh()

    def _add(self, name: str, destination: SyslogDestination) -> None:
        sender = self._new_sender(destination)
        self.senders[name] = sender
        sender.start()
        log.info(
            "syslog: %s records go to %s%s",
            "every" if name == OPERATOR else f"{name.partition('/')[2]}'s",
            destination,
            "" if destination.encrypted else " (UDP: not encrypted)",
        )

    def _remove(self, name: str) -> None:
        sender = self.senders.pop(name, None)
        if sender is None:
            return
        self._retired_dropped[name] += sender.dropped
        task = asyncio.create_task(sender.close())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    # -- records ----------------------------------------------------------------------------

    def _committed(self, record: WrittenRecord) -> None:
        """A record was committed (in any thread): copy it on the event loop."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop stopped meanwhile
            loop.call_soon_threadsafe(self.forward, record)

    def forward(self, record: WrittenRecord) -> None:
        """Queue ``record`` for the operator's collector and its tenant's (on the loop)."""
        targets = [self.senders.get(OPERATOR)]
        if record.tenant is not None:
            targets.append(self.senders.get(f"tenant/{record.tenant}"))
        senders = [s for s in targets if s is not None]
        if not senders:
            return
        message = audit_message(record, self.hostname, self.facility)
        for sender in senders:
            sender.send(message)

    # -- what the metrics read ------------------------------------------------------------------

    def dropped(self) -> dict[str, int]:
        """Messages dropped (queue full) since the relay started, by collector name."""
        counts = Counter(self._retired_dropped)
        for name, sender in self.senders.items():
            counts[name] += sender.dropped
        return dict(counts)

    def queued(self) -> dict[str, tuple[int, bool]]:
        """Each collector's queue length and whether it is connected."""
        return {name: (len(s), s.connected) for name, s in self.senders.items()}
