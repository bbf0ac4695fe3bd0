"""Errors of the admin API, each with the HTTP status it is answered with and a stable code.

A refusal is answered as ``{"error": message, "code": code, "params": {...}}``. The message is
English for scripts and ``telework-ctl``: written for an admin, and never containing anything of
another tenant or a secret. The code (an :class:`ErrorCode`) and its params (field names,
bounds, counts) are what the console translates, so they follow the same rule as the message.
"""

from __future__ import annotations

from enum import StrEnum

from relay.errors import RelayError

# What a param may be: JSON scalars only, so a client can put them into its own sentence.
ParamValue = str | int | float


class ErrorCode(StrEnum):
    """Every code an admin API error body may carry; clients translate each one."""

    # The request itself (any route).
    BODY_REQUIRED = "body_required"
    BODY_NOT_JSON = "body_not_json"
    BODY_TOO_DEEP = "body_too_deep"
    BODY_TOO_LARGE = "body_too_large"
    FIELD_MISSING = "field_missing"  # field
    FIELD_WRONG_TYPE = "field_wrong_type"  # field
    FIELD_EMPTY = "field_empty"  # field
    FIELD_TOO_LONG = "field_too_long"  # field, max_length
    FIELD_TOO_SMALL = "field_too_small"  # field, minimum
    FIELD_TOO_LARGE = "field_too_large"  # field, maximum
    FIELD_NOT_ALLOWED = "field_not_allowed"  # field (the first unknown one)
    FIELD_NOT_A_CHOICE = "field_not_a_choice"  # field, choices
    BAD_HOST_ID = "bad_host_id"
    BAD_REGISTRATION_ID = "bad_registration_id"
    USAGE_DAYS_REVERSED = "usage_days_reversed"
    USAGE_TOO_MANY_DAYS = "usage_too_many_days"  # maximum
    USAGE_DAY_OUT_OF_RANGE = "usage_day_out_of_range"  # field, minimum, maximum
    # Reports (usage, audit searches and exports): relay.admin.reports.
    REPORTS_BUSY = "reports_busy"  # maximum, retry_after_s
    REPORT_TOO_LARGE = "report_too_large"  # maximum
    NO_SUCH_ROUTE = "no_such_route"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    HTTP_ERROR = "http_error"  # status
    # Signing in and who may do what.
    SIGN_IN_FAILED = "sign_in_failed"
    LOCKED_OUT = "locked_out"  # retry_after_s
    SIGN_IN_REQUIRED = "sign_in_required"
    SIGN_IN_NOT_VALID = "sign_in_not_valid"
    SIGN_IN_EXPIRED = "sign_in_expired"
    OPERATOR_ONLY = "operator_only"
    ROLE_NOT_ALLOWED = "role_not_allowed"  # role (the admin's own)
    # Managing admins.
    NO_SUCH_ADMIN = "no_such_admin"
    ADMIN_SELF = "admin_self"  # deleting, disabling or changing the role of oneself
    ROLE_TOO_HIGH = "role_too_high"  # role (the one asked for)
    ROLE_TENANT_MISMATCH = "role_tenant_mismatch"  # an operator with a tenant, or the reverse
    LAST_OPERATOR = "last_operator"
    # An admin changing their own password.
    PASSWORD_WRONG = "password_wrong"  # noqa: S105 (the current password is not theirs)
    PASSWORD_TOO_SHORT = "password_too_short"  # noqa: S105 (minimum)
    PASSWORD_TOO_LONG = "password_too_long"  # noqa: S105 (maximum, bytes)
    PASSWORD_NOT_TEXT = "password_not_text"  # noqa: S105
    PASSWORD_UNCHANGED = "password_unchanged"  # noqa: S105
    # What the request names.
    NO_SUCH_TENANT = "no_such_tenant"
    NO_SUCH_STAFF = "no_such_staff"
    NO_SUCH_GRANT = "no_such_grant"
    NO_SUCH_SESSION = "no_such_session"
    # A tenant's syslog collector (core.syslog.SyslogConfigError's codes).
    SYSLOG_BAD_URL = "syslog_bad_url"
    SYSLOG_BAD_SCHEME = "syslog_bad_scheme"
    SYSLOG_BAD_HOST = "syslog_bad_host"  # maximum (when too long)
    SYSLOG_BAD_PORT = "syslog_bad_port"  # minimum, maximum
    SYSLOG_BAD_CA = "syslog_bad_ca"
    SYSLOG_CA_TOO_LARGE = "syslog_ca_too_large"  # maximum
    SYSLOG_BAD_FINGERPRINT = "syslog_bad_fingerprint"
    SYSLOG_CA_AND_FINGERPRINT = "syslog_ca_and_fingerprint"
    SYSLOG_TRUST_ON_UDP = "syslog_trust_on_udp"
    # Central home-PC registration: the tenant already has another signing key (replacing it
    # must be asked for: office PCs pinned the old one).
    SIGNING_KEY_EXISTS = "signing_key_exists"
    # Refused by the directory or the policy model (their messages stay English-only).
    NOT_FOUND = "not_found"
    ALREADY_EXISTS = "already_exists"
    INVALID_INPUT = "invalid_input"
    INVALID_POLICY = "invalid_policy"
    # Ours: details only in the relay's log.
    INTERNAL_ERROR = "internal_error"


class ApiError(RelayError):
    status = 400
    retry_after_s: int | None = None  # answered as Retry-After when set

    def __init__(self, message: str, code: ErrorCode, **params: ParamValue) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.params = params


class BadRequest(ApiError):
    status = 400


class Unauthorized(ApiError):
    status = 401


class Forbidden(ApiError):
    status = 403


class NotFoundError(ApiError):
    status = 404


class Conflict(ApiError):
    status = 409


class PayloadTooLarge(ApiError):
    status = 413


class LockedOut(ApiError):
    status = 429

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message, ErrorCode.LOCKED_OUT, retry_after_s=retry_after_s)
        self.retry_after_s = retry_after_s
