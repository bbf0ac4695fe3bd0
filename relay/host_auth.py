"""How an office PC gets in: enrolment with a one-time token, then its host ID and secret for
each control channel and each data connection it attaches to an accepted session."""

from __future__ import annotations

import contextlib
from functools import partial

from core.crypto.certs import host_id_for_certificate, pem_to_der
from core.errors import CryptoError, ProtocolError
from core.protocol.control import Attach, Enroll, Enrolled, HostAuth, HostReady, RefusalReason
from core.wake import LanCard
from relay.context import RelayContext, unvalidated_name
from relay.errors import Refusal, StoreUnavailable
from relay.host_channels import HostChannels
from relay.store.errors import EnrollmentRefused
from transport.link_stream import LinkStream


class HostAdmission:
    """Answers a connection whose first message comes from an office PC."""

    def __init__(self, context: RelayContext, channels: HostChannels) -> None:
        self._context = context
        self._channels = channels

    async def enroll(self, stream: LinkStream, message: Enroll) -> None:
        context = self._context
        try:
            host_id = host_id_for_certificate(pem_to_der(message.cert_pem))
        except CryptoError as exc:
            raise ProtocolError("enrolment certificate is not a valid certificate") from exc
        try:
            tenant, secret = await context.db(
                context.directory.redeem_enrollment_token,
                message.token,
                host_id,
                message.cert_pem,
                message.name,
                message.agent_version,
                context.wall(),
                LanCard.optional(message.lan_mac, message.lan_address),
            )
        except EnrollmentRefused as exc:
            await context.audit_noise(
                "enroll_refused",
                stream.source_key,
                source=stream.source,
                detail={"reason": str(exc)},
            )
            raise Refusal(RefusalReason.BAD_ENROLLMENT_TOKEN) from exc
        await context.audit(
            "host_enrolled",
            tenant=tenant,
            host_id=host_id,
            source=stream.source,
            detail={"name": message.name, "agent_version": message.agent_version},
        )
        keepalive = int(context.settings.keepalive_interval_s)
        await stream.send(Enrolled(host_id, secret, tenant, keepalive))
        await self._channels.serve(stream, host_id, tenant)

    async def host_auth(self, stream: LinkStream, message: HostAuth) -> None:
        if self._channels.full and message.host_id not in self._channels.online:
            # A full cluster node: the office PC retries after its back-off, and the public
            # address's balancer sends it to a node with room.
            raise Refusal(RefusalReason.TOO_MANY_CONNECTIONS)
        context = self._context
        tenant = await self._authenticate(stream, message.host_id, message.secret)
        # A hint for the console and for waking it, written with the next group of writes. A
        # full disk must not keep the office PC offline: if it cannot be written, it is not.
        lan = LanCard.optional(message.lan_mac, message.lan_address)
        with contextlib.suppress(StoreUnavailable):
            await context.group_commit.write(
                partial(context.directory.record_host_seen, message.host_id, context.wall(), lan)
            )
        keepalive = int(context.settings.keepalive_interval_s)
        await stream.send(HostReady(message.host_id, tenant, keepalive))
        await self._channels.serve(stream, message.host_id, tenant)

    async def attach(self, stream: LinkStream, message: Attach) -> None:
        await self._authenticate(stream, message.host_id, message.secret)
        await self._channels.attach(stream, message)

    async def _authenticate(self, stream: LinkStream, host_id: str, secret: str) -> str:
        """Return the host's tenant, or refuse.

        No source lockout here, either way: office-PC credentials and enrolment tokens are
        random 256-bit values that cannot be guessed, so a failure is a retired PC or a typo,
        and the address it comes from is usually the NAT address every office PC of its
        municipality shares."""
        context = self._context
        host = await context.db(context.directory.check_host_credential, host_id, secret)
        if host is None:
            await context.audit_noise(
                "host_auth_refused",
                stream.source_key,
                host_id=unvalidated_name(host_id),
                source=stream.source,
            )
            raise Refusal(RefusalReason.BAD_HOST_CREDENTIAL)
        return host.tenant
