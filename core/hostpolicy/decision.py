"""Whether the host accepts a connection request: one pure function over everything it knows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from core.homecheck.evaluate import judge
from core.homecheck.report import HomeReport
from core.hostpolicy.macs import RegisteredMac
from core.policy import Policy, hours_to_wire
from core.protocol.control import RefusalReason


@dataclass(frozen=True)
class Verdict:
    """``refusal`` None accepts; ``take_over`` says the live session must end first;
    ``checks`` names the home-PC checks that failed; ``hours``, outside the allowed hours,
    says them (:func:`core.policy.hours_to_wire`)."""

    refusal: RefusalReason | None
    device: RegisteredMac | None = None
    take_over: bool = False
    checks: tuple[str, ...] = ()
    hours: tuple[str, ...] = ()


def decide(
    *,
    device_registered: bool,
    registered: RegisteredMac | None,
    policy: Policy,
    paused: bool,
    busy: bool,
    allow_take_over: bool,
    now: dt.datetime,
    home_report: HomeReport | None = None,
) -> Verdict:
    """Apply the host's rules in order: paused, home PC's key registered, home PC's MAC
    registered (locally and, when the admin set one, centrally: ``registered`` is the local
    entry of a MAC the central list allows, the same MAC for both), the home-PC check the
    policy requires (``home_report``: what the viewer said, None if nothing), allowed hours,
    one session at a time."""
    if paused:
        return Verdict(RefusalReason.HOST_PAUSED)
    if not device_registered:
        return Verdict(RefusalReason.DEVICE_NOT_REGISTERED)
    if registered is None or not policy.allows_mac([registered.mac]):
        return Verdict(RefusalReason.MAC_NOT_REGISTERED)
    home = judge(home_report, policy)
    if home.refusal is not None:
        return Verdict(home.refusal, checks=tuple(check.value for check in home.failed))
    if not policy.allows_time(now):
        return Verdict(
            RefusalReason.OUTSIDE_HOURS, hours=tuple(hours_to_wire(policy.allowed_hours))
        )
    if busy and not allow_take_over:
        return Verdict(RefusalReason.HOST_BUSY)
    return Verdict(None, registered, take_over=busy)
