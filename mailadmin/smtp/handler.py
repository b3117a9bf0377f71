"""SMTP policy as aiosmtpd hooks: who may send as whom, which recipients exist, where mail goes."""

from __future__ import annotations

import asyncio
import logging
import smtplib
from collections.abc import Callable
from concurrent.futures import Executor
from email.utils import formatdate
from typing import Any, TypeVar

from aiosmtpd.smtp import SMTP, Envelope, Session

from mailadmin.directory.mailrouting import MailRoutingStore, MailUser, Route
from mailadmin.errors import MailadminError
from mailadmin.smtp import maildir
from mailadmin.smtp.config import SmtpConfig
from mailadmin.smtp.metrics import SmtpMetrics

T = TypeVar("T")
log = logging.getLogger(__name__)

OK = "250 2.0.0 OK"
TEMPFAIL_DIRECTORY = "451 4.4.3 Directory unavailable, try again later"
TEMPFAIL_DELIVERY = "451 4.3.0 Local delivery failed, try again later"
RELAY_DENIED = "554 5.7.1 Relay access denied"
TOO_MANY = "452 4.5.3 Too many recipients"
NOT_YOURS = "553 5.7.1 Sender address not owned by the authenticated user"
NOT_LOGGED_IN = "553 5.7.1 Sender address is one of ours: authenticate on the submission port to send as it"


class MailHandler:
    """aiosmtpd handler: recipient checks, list expansion, Maildir delivery, outbound hand-off."""

    def __init__(self, config: SmtpConfig, routing: MailRoutingStore, executor: Executor,
                 metrics: SmtpMetrics | None = None) -> None:
        self.config = config
        self.routing = routing
        self.executor = executor
        self.metrics = metrics or SmtpMetrics(routing.client.operations.snapshot)

    async def blocking(self, function: Callable[..., T], *args: Any) -> T:
        """Run a directory or disk call off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, function, *args)

    async def handle_MAIL(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          mail_options: list[str]) -> str:
        user = session.auth_data if session.authenticated else None
        if isinstance(user, MailUser) and address.lower() not in user.addresses:
            return NOT_YOURS
        if not session.authenticated and self.config.is_local(address) and not self._service_mail(session, address):
            refused = await self._claimed_by_stranger(address)
            if refused:
                return refused
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        envelope.routes = []  # type: ignore[attr-defined]
        return OK

    def _service_mail(self, session: Session, address: str) -> bool:
        """mailadmin's own mail: its sender address, from a trusted network (else anyone could borrow it)."""
        return address.lower() == self.config.service_sender and self.config.trusts(_peer(session))

    async def _claimed_by_stranger(self, address: str) -> str | None:
        """The refusal for an unauthenticated sender using one of our mailboxes' or lists' addresses
        (anyone could write "giamdoc@…" to all staff), a retired official's included, else None; addresses
        nobody owns (the service's noreply) go on."""
        try:
            claimed = await self.blocking(self.routing.claimed, address)
        except MailadminError as error:
            log.warning("sender lookup failed for %s: %s", address, error.message.both())
            return TEMPFAIL_DIRECTORY
        return NOT_LOGGED_IN if claimed else None

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        reply = await self._recipient(session, envelope, address)
        if reply != OK:
            self.metrics.message(accepted=False)
        return reply

    async def _recipient(self, session: Session, envelope: Envelope, address: str) -> str:
        if len(envelope.rcpt_tos) >= self.config.max_recipients:
            return TOO_MANY
        if not self.config.is_local(address):
            if not session.authenticated:
                return RELAY_DENIED
            envelope.rcpt_tos.append(address)
            return OK
        try:
            route = await self.blocking(self.routing.route, address)
        except MailadminError as error:
            log.warning("recipient lookup failed for %s: %s", address, error.message.both())
            return TEMPFAIL_DIRECTORY
        if route is None:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        if not route.users:
            return f"550 5.2.1 <{address}>: list has no deliverable members"
        envelope.rcpt_tos.append(address)
        envelope.routes.append(route)  # type: ignore[attr-defined]
        return OK

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        reply = await self._data(server, session, envelope)
        self.metrics.message(accepted=reply.startswith("250"))
        return reply

    async def _data(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        routes: list[Route] = getattr(envelope, "routes", [])
        local = {user.dn.lower(): user for route in routes for user in route.users}
        outbound = [a for a in envelope.rcpt_tos if not self.config.is_local(a)]
        content = envelope.original_content or b""
        received = _received(session, server.hostname, envelope.mail_from or "")
        try:
            await self.blocking(self._deliver_local, list(local.values()), received, content,
                                envelope.mail_from or "")
            if outbound:
                await self.blocking(self._send_outbound, envelope.mail_from or "", outbound, received + content)
        except (OSError, smtplib.SMTPException) as exc:
            log.error("delivery failed: %s", exc)
            return TEMPFAIL_DELIVERY
        return f"250 2.0.0 OK: delivered to {len(local)} mailbox(es), {len(outbound)} relayed"

    def _deliver_local(self, users: list[MailUser], received: bytes, content: bytes, sender: str) -> None:
        for user in users:
            header = f"Return-Path: <{sender}>\r\nDelivered-To: {user.mail}\r\n".encode()
            maildir.deliver(self.config.spool / user.uid, header + received + content)

    def _send_outbound(self, sender: str, recipients: list[str], message: bytes) -> None:
        if not self.config.relay_host:
            maildir.deliver(self.config.outbound, message)
            return
        with smtplib.SMTP(self.config.relay_host, self.config.relay_port, timeout=30) as relay:
            refused = relay.sendmail(sender, recipients, message)
        if refused:
            raise smtplib.SMTPRecipientsRefused(refused)


def _peer(session: Session) -> str:
    """The client's IP address."""
    return str(session.peer[0]) if isinstance(session.peer, tuple) else str(session.peer)


def _received(session: Session, hostname: str, sender: str) -> bytes:
    peer = _peer(session)
    how = "ESMTPSA" if session.authenticated else "ESMTPS" if session.ssl else "ESMTP"
    return (f"Received: from {session.host_name or 'unknown'} ([{peer}])\r\n\tby {hostname} (mailadmin) "
            f"with {how}; {formatdate(localtime=False)}\r\n").encode()
