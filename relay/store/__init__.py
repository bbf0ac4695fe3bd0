"""The relay's directory store: see :mod:`relay.store.directory`."""

from relay.store.directory import AuditRecord, Directory, Host, OtpResult, Tenant, User
from relay.store.errors import (
    AlreadyExists,
    EnrollmentRefused,
    InvalidInput,
    NotFound,
    StoreError,
)

__all__ = [
    "AlreadyExists",
    "AuditRecord",
    "Directory",
    "EnrollmentRefused",
    "Host",
    "InvalidInput",
    "NotFound",
    "OtpResult",
    "StoreError",
    "Tenant",
    "User",
]
