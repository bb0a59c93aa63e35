import threading

import pytest
from django.db import connection, connections

from audiences.models import Suppression
from messaging import signals, tracking
from messaging.models import Message
from tests.factories import MessageFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 8


@pytest.fixture(autouse=True)
def _postgres_only():
    # SQLite serializes writers anyway; the races worth testing need concurrent transactions.
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")


def race(work) -> list:
    """Runs `work()` in THREADS threads released together; their results."""
    barrier = threading.Barrier(THREADS)
    results = [None] * THREADS

    def run(index):
        try:
            barrier.wait()
            results[index] = work()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_concurrent_opens_record_one_open(org, message_events):
    message = MessageFactory(organization=org, sent=True)

    results = race(lambda: tracking.message_record_open(message=Message.objects.get(pk=message.pk)))

    assert results.count(True) == 1
    assert [name for name, _, _ in message_events] == [signals.OPENED]


def test_concurrent_unsubscribes_suppress_once(org, message_events):
    message = MessageFactory(organization=org, sent=True)

    def unsubscribe():
        fresh = Message.objects.select_related("campaign", "contact").get(pk=message.pk)
        return tracking.message_unsubscribe(message=fresh, source="one_click")

    results = race(unsubscribe)

    assert results.count(True) == 1
    assert Suppression.objects.count() == 1
    assert [name for name, _, _ in message_events] == [signals.UNSUBSCRIBED]
