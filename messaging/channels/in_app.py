"""In-app channel: the message is stored for the contact, who reads it from their inbox.

Sending writes the rendered title, body, action URL and icon into each row's
`metadata["in_app"]`; GET /api/v1/contacts/{external_id}/inbox (messaging.api)
lists what went out. There is no provider, so the public id is the provider id.
"""

from __future__ import annotations

from messaging.channels.base import Channel, DeliveryError, Outcome, OutgoingMessage
from messaging.models import Message


class InAppChannel(Channel):
    kind = "in_app"

    def send(self, batch: list[OutgoingMessage]) -> list[Outcome]:
        rows = Message.objects.filter(pk__in=[message.message_pk for message in batch]).only("pk", "metadata")
        rows_by_pk = {row.pk: row for row in rows}
        outcomes, stored = [], []
        for message in batch:
            row = rows_by_pk.get(message.message_pk)
            error = self._refusal(message, row)
            if error is not None:
                outcomes.append(Outcome.failed(message, error))
                continue
            # Merged, not replaced: the engine keeps its own keys in metadata.
            row.metadata = {**row.metadata, "in_app": self._content(message)}
            stored.append(row)
            outcomes.append(Outcome(message_pk=message.message_pk, ok=True, provider_message_id=message.public_id))
        # One UPDATE … CASE for the whole batch rather than one per message.
        Message.objects.bulk_update(stored, ["metadata"])
        return [self.report(outcome) for outcome in outcomes]

    @staticmethod
    def _refusal(message: OutgoingMessage, row: Message | None) -> DeliveryError | None:
        if row is None:
            return DeliveryError("The message row no longer exists", permanent=True)
        if not (message.title.strip() or message.text.strip()):
            return DeliveryError("In-app message has no title and no body", permanent=True)
        return None

    @staticmethod
    def _content(message: OutgoingMessage) -> dict[str, str]:
        return {"title": message.title, "body": message.text, "action_url": message.action_url, "icon": message.icon}
