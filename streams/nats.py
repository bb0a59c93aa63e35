"""NATS JetStream, through nats-py: publishing the outbox and consuming the subjects Shokti subscribes to.

nats-py is asyncio-only; Celery tasks and the management command are not, so
each call runs its own short event loop. NATS_URL unset turns all of it off.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable

import nats as nats_client
from django.conf import settings
from nats.js.api import StreamConfig
from nats.js.errors import NotFoundError

logger = logging.getLogger(__name__)

PUBLISHED_SUBJECTS = ["campaign.>"]
SUBSCRIBED_SUBJECTS = ["user.created", "user.deleted", "user.preferences.updated", "notification.>"]


def configured() -> bool:
    return bool(settings.NATS_URL)


async def _ensure_stream(js, name: str, subjects: list[str]) -> None:
    """Creates the stream when no stream holds these subjects yet (a deployment may provide its own)."""
    try:
        await js.find_stream_name_by_subject(subjects[0])
    except NotFoundError:
        await js.add_stream(StreamConfig(name=name, subjects=subjects))


async def _publish_all(messages: list[tuple[str, str, bytes]]) -> None:
    connection = await nats_client.connect(settings.NATS_URL, connect_timeout=5, max_reconnect_attempts=1)
    try:
        js = connection.jetstream()
        await _ensure_stream(js, settings.NATS_PUBLISH_STREAM, PUBLISHED_SUBJECTS)
        for subject, message_id, body in messages:
            await js.publish(subject, body, headers={"Nats-Msg-Id": message_id})
    finally:
        await connection.close()


def publish_all(messages: list[tuple[str, str, bytes]]) -> None:
    """Publishes (subject, message id, body) triples to JetStream, awaiting each acknowledgement."""
    asyncio.run(_publish_all(messages))


async def _consume(handle: Callable[[str, bytes], Awaitable[None] | None], *, once: bool, batch: int) -> int:
    connection = await nats_client.connect(settings.NATS_URL, connect_timeout=5)
    handled = 0
    try:
        js = connection.jetstream()
        await _ensure_stream(js, settings.NATS_CONSUME_STREAM, SUBSCRIBED_SUBJECTS)
        subscriptions = [
            await js.pull_subscribe(subject, durable=f"{settings.NATS_DURABLE}-{subject.replace('.', '-').strip('->')}")
            for subject in SUBSCRIBED_SUBJECTS
        ]
        while True:
            idle = True
            for subscription in subscriptions:
                try:
                    messages = await subscription.fetch(batch, timeout=0.5)
                except TimeoutError:
                    continue
                idle = False
                for message in messages:
                    try:
                        await asyncio.to_thread(handle, message.subject, message.data)
                    except Exception:
                        # Redelivered later (at least once); one bad message does not stop the others.
                        logger.exception("Handling %s failed; it will be redelivered", message.subject)
                        await message.nak(delay=5)
                        continue
                    await message.ack()
                    handled += 1
            if once and idle:
                return handled
    finally:
        await connection.close()


def consume(handle: Callable[[str, bytes], None], *, once: bool = False, batch: int = 100) -> int:
    """Feeds each message of the subscribed subjects to `handle(subject, data)`, acking after it returns."""
    return asyncio.run(_consume(handle, once=once, batch=batch))
