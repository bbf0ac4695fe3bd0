"""Resume tickets on the relay's side: issued at login, renewed while the session runs, and
given their lifetime when it ends, so a viewer can come back after a drop without a new OTP."""

from __future__ import annotations

import asyncio
from functools import partial

from core.protocol.notices import TICKET_ENDING
from relay.context import RelayContext
from relay.errors import StoreUnavailable


class ResumeTickets:
    """Writes the relay's resume tickets to the directory, with their lifetimes."""

    def __init__(self, context: RelayContext) -> None:
        self._context = context

    async def issue(
        self,
        tenant: str,
        user: str,
        host_id: str,
        device_fp: str,
        *,
        chain_started_at: float | None = None,
        expires_at: float | None = None,
    ) -> str:
        """A ticket for the viewer's next reconnect; ``chain_started_at``: the time of the OTP
        login its chain began with (None: now); ``expires_at``: a sooner end than the TTL."""
        context = self._context
        return await context.db(
            partial(
                context.directory.issue_resume_ticket,
                tenant,
                user,
                host_id,
                device_fp,
                context.settings.resume_ticket_ttl_s,
                context.wall(),
                chain_started_at=chain_started_at,
                expires_at=expires_at,
            )
        )

    async def keep_alive(self, ticket: str) -> None:
        """Renew a live session's ticket: a drop after hours of work may still resume."""
        context = self._context
        while ticket:
            await asyncio.sleep(context.settings.resume_ticket_renew_s)
            now = context.wall()
            expires_at = now + context.settings.resume_ticket_ttl_s
            try:
                renewed = await context.db(
                    context.directory.set_resume_ticket_expiry, ticket, expires_at, now
                )
            except StoreUnavailable:
                continue  # a full disk, counted where it failed: the next renewal may pass
            if not renewed:
                return  # used already: the viewer resumed while this session was dying

    async def start_lifetime(self, ticket: str, end_reason: str) -> None:
        """Start the ticket's time when its session ends, so the viewer may resume for the whole
        lifetime after a drop; a session an admin ended, or the office PC cut (TICKET_ENDING),
        takes its ticket with it. Called before the session leaves the live ones: once it is
        gone, a resume must meet the new expiry. An ended ticket is never brought back."""
        if not ticket:
            return
        context = self._context
        now = context.wall()
        ends = end_reason in TICKET_ENDING
        expires_at = now if ends else now + context.settings.resume_ticket_ttl_s
        # Shielded like the audit: a relay shutting down must still leave the ticket usable.
        await asyncio.shield(
            context.db(context.directory.set_resume_ticket_expiry, ticket, expires_at, now)
        )
