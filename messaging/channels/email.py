"""Email channel: Django's mail API, so EMAIL_BACKEND alone picks SMTP or the on-disk mailbox.

A batch shares one connection. Each message still gets its own outcome: a
recipient refused with 5xx is a hard bounce (permanent), 4xx and other SMTP
errors are transient, and a server that hangs up mid-batch is dialled once more.
"""

from __future__ import annotations

import contextlib
import smtplib
from dataclasses import dataclass
from email.utils import formataddr, make_msgid, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.utils.html import strip_tags

from messaging.channels.base import Channel, DeliveryError, Outcome, OutgoingMessage

ONE_CLICK = "List-Unsubscribe=One-Click"
# The connection is gone, not the message refused: worth a new connection.
DISCONNECTED = (smtplib.SMTPServerDisconnected, ConnectionError, TimeoutError)


@dataclass(frozen=True)
class EmailConfig:
    default_from: str
    domain: str  # of each Message-ID

    @classmethod
    def from_settings(cls) -> EmailConfig:
        default_from = settings.DEFAULT_FROM_EMAIL
        domain = settings.SHOKTI_MAIL_DOMAIN or parseaddr(default_from)[1].rpartition("@")[2] or "localhost"
        return cls(default_from=default_from, domain=domain)


class EmailChannel(Channel):
    kind = "email"

    def send(self, batch: list[OutgoingMessage]) -> list[Outcome]:
        config = EmailConfig.from_settings()
        outcomes: list[Outcome] = []
        connection = get_connection()
        reconnected = False
        try:
            connection.open()
            for message in batch:
                try:
                    outcomes.append(self.report(self._send_one(message, connection, config)))
                except DISCONNECTED:
                    # An idle timeout or a restart on the server's side: dial once per batch, then give up.
                    if reconnected:
                        raise
                    reconnected = True
                    connection.close()
                    connection.open()
                    outcomes.append(self.report(self._send_one(message, connection, config)))
        except OSError as error:  # smtplib's errors included
            failure = DeliveryError(f"Mail server unavailable: {error}")
            outcomes += [Outcome.failed(message, failure) for message in batch[len(outcomes) :]]
        finally:
            with contextlib.suppress(OSError):
                connection.close()
        return outcomes

    def _send_one(self, message: OutgoingMessage, connection: BaseEmailBackend, config: EmailConfig) -> Outcome:
        try:
            email = self._build(message, connection, config)
            sent = email.send()
        except DeliveryError as error:
            return Outcome.failed(message, error)
        except ValueError as error:  # an unparsable address or a header with a newline
            return Outcome.failed(message, DeliveryError(f"Invalid email: {error}", permanent=True))
        except smtplib.SMTPRecipientsRefused as error:
            code, reply = next(iter(error.recipients.values()))
            refusal = f"Recipient refused: {code} {_text(reply)}"
            if code >= 500:
                return Outcome.failed(message, DeliveryError(refusal, permanent=True, bounce_type="hard"))
            return Outcome.failed(message, DeliveryError(refusal))
        except DISCONNECTED:
            raise
        except smtplib.SMTPResponseException as error:
            return Outcome.failed(message, DeliveryError(f"SMTP {error.smtp_code}: {_text(error.smtp_error)}"))
        except smtplib.SMTPException as error:
            return Outcome.failed(message, DeliveryError(f"SMTP error: {error}"))
        if not sent:
            return Outcome.failed(message, DeliveryError("The mail backend accepted nothing"))
        return Outcome(message_pk=message.message_pk, ok=True, provider_message_id=email.extra_headers["Message-ID"])

    def _build(
        self, message: OutgoingMessage, connection: BaseEmailBackend, config: EmailConfig
    ) -> EmailMultiAlternatives:
        headers = {name: value for name, value in message.headers.items() if name.lower() != "message-id"}
        present = {name.lower(): value.strip() for name, value in headers.items()}
        # RFC 8058 one-click unsubscribe; its absence means the dispatcher did not render the links.
        if not present.get("list-unsubscribe") or present.get("list-unsubscribe-post") != ONE_CLICK:
            raise DeliveryError(
                f"Email without List-Unsubscribe and List-Unsubscribe-Post: {ONE_CLICK}", permanent=True
            )
        if not message.recipient:
            raise DeliveryError("Email has no recipient", permanent=True)
        email = EmailMultiAlternatives(
            subject=message.subject,
            # Some clients show only the text part: never leave it empty when there is HTML.
            body=message.text or strip_tags(message.html),
            from_email=self._sender(message, config),
            to=[message.recipient],
            reply_to=[message.reply_to] if message.reply_to else None,
            headers={**headers, "Message-ID": make_msgid(idstring=message.public_id, domain=config.domain)},
            connection=connection,
        )
        if message.html:
            email.attach_alternative(message.html, "text/html")
        return email

    def _sender(self, message: OutgoingMessage, config: EmailConfig) -> str:
        if message.sender_email:
            return formataddr((message.sender_name, message.sender_email))
        if message.sender_name:
            return formataddr((message.sender_name, parseaddr(config.default_from)[1]))
        return config.default_from


def _text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else reply
