"""The relay's directory store: tenants, staff and their OTPs, office PCs, grants, resume
tickets, the audit log, admins, policies, home PCs and bandwidth limits.

One module per aggregate (``tenants``, ``staff``, ``hosts``, ``grants``, ``tickets``, ``audit``,
``admins``, ``policies``, ``home_pcs``, ``bandwidth``), each a class of methods over the one
:class:`~relay.store.database.Database` (engine, read/write transactions, clock). They are
mixins that :class:`~relay.store.directory.Directory` inherits together, rather than parts it
holds, because its public API is exactly the union of their methods: composition would need a
one-line delegate per method, a copy of the whole API to keep in step. The aggregates never call
each other's methods; what several need (finding a tenant, user or host, the grant check, the
central MAC list) is a plain function over a connection in the module that owns it.

SQLite in the data directory by default; queries use only portable SQL, so the same code runs
on PostgreSQL. Single use (TOTP steps, one-time codes, enrolment tokens, resume tickets) is
enforced by compare-and-set updates in the database (``UPDATE ... WHERE used_at IS NULL`` and
checking the row count), so it holds across threads and processes.

Secrets: TOTP seeds are sealed with the :class:`SecretBox` (key file apart from the database),
one-time codes are salted scrypt hashes, and the 256-bit random tokens (enrolment, host secret,
resume ticket) are stored as SHA-256 digests, which is enough for secrets of that entropy.

Lookups fed by a peer (``verify_otp``, ``check_host_credential``, redeeming) never raise for bad
input; operator actions raise :class:`InvalidInput`, :class:`NotFound` or
:class:`AlreadyExists` with a clear message and change nothing.
"""

from relay.store.audit import AuditRecord
from relay.store.directory import Directory
from relay.store.errors import (
    AlreadyExists,
    EnrollmentRefused,
    InvalidInput,
    NotFound,
    StoreError,
)
from relay.store.hosts import Host
from relay.store.staff import OtpResult, User
from relay.store.tenants import Tenant

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
