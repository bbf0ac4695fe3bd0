"""A home PC's report against a policy: the status of every check, and the refusal, if any.

The relay asks this of the tenant's and the office PC's central policy, the office PC of the
policy it obeys (its own made stricter by the pushed one): either may refuse. A check the
policy requires passes only with ``pass``; ``not_available`` (antivirus on Linux, a command
that failed) fails a required check — the admin decides by requiring it or not.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.homecheck.report import REQUIRABLE_CHECKS, Check, HomeReport, Status, parse_version
from core.policy import Policy
from core.protocol.control import RefusalReason


@dataclass(frozen=True)
class HomeVerdict:
    """``refusal`` None lets the home PC in; ``failed`` names the checks that stopped it."""

    refusal: RefusalReason | None
    failed: tuple[Check, ...] = ()


def statuses(report: HomeReport, policy: Policy) -> dict[Check, Status]:
    """Every check's status under ``policy`` (the update age and version judged by it)."""
    age = report.updates_age_days
    if age is None:
        updates = Status.NOT_AVAILABLE
    else:
        updates = Status.PASS if age <= policy.update_age_limit_days else Status.FAIL
    result = {Check.OS_UPDATES: updates}
    for check in REQUIRABLE_CHECKS[1:]:
        result[check] = report.status_of(check)
    result[Check.VIEWER_VERSION] = version_status(report.viewer_version, policy)
    return result


def version_status(version: str, policy: Policy) -> Status:
    if policy.min_viewer_version is None:
        return Status.PASS
    have, need = parse_version(version), parse_version(policy.min_viewer_version)
    if have is None or need is None:
        return Status.FAIL
    return Status.PASS if have >= need else Status.FAIL


def required(policy: Policy) -> tuple[Check, ...]:
    """The checks ``policy`` requires, in the order they are listed everywhere."""
    wanted = [c for c in REQUIRABLE_CHECKS if c in policy.home_checks]
    if policy.min_viewer_version is not None:
        wanted.append(Check.VIEWER_VERSION)
    return tuple(wanted)


def judge(report: HomeReport | None, policy: Policy) -> HomeVerdict:
    """Whether ``policy`` lets this home PC in.

    A login with no report comes from a viewer older than the check, or one whose check was
    not run: too old when the policy names a minimum version, unchecked when it requires any
    check or refuses unchecked home PCs."""
    if report is None:
        if policy.min_viewer_version is not None:
            return HomeVerdict(RefusalReason.VIEWER_TOO_OLD, (Check.VIEWER_VERSION,))
        if policy.home_checks or policy.deny_unchecked:
            return HomeVerdict(RefusalReason.HOME_PC_UNCHECKED)
        return HomeVerdict(None)
    found = statuses(report, policy)
    if found[Check.VIEWER_VERSION] is not Status.PASS:
        return HomeVerdict(RefusalReason.VIEWER_TOO_OLD, (Check.VIEWER_VERSION,))
    failed = tuple(c for c in required(policy) if found[c] is not Status.PASS)
    if failed:
        return HomeVerdict(RefusalReason.HOME_PC_CHECK_FAILED, failed)
    return HomeVerdict(None)
