from datetime import timedelta

from django.utils import timezone

from messaging.channels.base import OutgoingMessage, get_channel
from messaging.channels.in_app import InAppChannel
from messaging.models import Message
from tests.factories import ContactFactory


def outgoing_for(row: Message, **fields) -> OutgoingMessage:
    return OutgoingMessage(
        message_pk=row.pk, public_id=row.public_id, channel_type="in_app", recipient=row.contact.external_id, **fields
    )


def test_the_registry_serves_the_in_app_channel():
    assert isinstance(get_channel("in_app"), InAppChannel)


def test_it_stores_the_content_of_a_batch_in_one_update(org, message_for, django_assert_num_queries):
    contact = ContactFactory(organization=org)
    rows = [message_for(contact, metadata={"variant": "A"}) for _ in range(3)]
    batch = [
        outgoing_for(row, title=f"অফার {n}", text="২০% ছাড়", action_url=f"https://app.example/o/{n}", icon="gift")
        for n, row in enumerate(rows)
    ]

    with django_assert_num_queries(2):  # one SELECT, one UPDATE
        outcomes = InAppChannel().send(batch)

    assert [(o.message_pk, o.ok, o.provider_message_id) for o in outcomes] == [(r.pk, True, r.public_id) for r in rows]
    for n, row in enumerate(rows):
        row.refresh_from_db()
        assert row.metadata == {
            "variant": "A",
            "in_app": {
                "title": f"অফার {n}",
                "body": "২০% ছাড়",
                "action_url": f"https://app.example/o/{n}",
                "icon": "gift",
            },
        }


def test_a_missing_row_or_empty_content_fails_permanently(org, message_for):
    contact = ContactFactory(organization=org)
    kept, deleted, empty = (message_for(contact) for _ in range(3))
    batch = [outgoing_for(kept, text="Hello"), outgoing_for(deleted, text="Hello"), outgoing_for(empty, title=" ")]
    deleted.delete()

    outcomes = InAppChannel().send(batch)

    assert [(o.ok, o.permanent) for o in outcomes] == [(True, False), (False, True), (False, True)]
    empty.refresh_from_db()
    assert "in_app" not in empty.metadata


def test_a_stored_message_shows_in_the_inbox_once_sent(org, message_for, api_client):
    contact = ContactFactory(organization=org, external_id="usr_rahim")
    row = message_for(contact)
    [outcome] = InAppChannel().send([outgoing_for(row, title="স্বাগতম", text="Welcome", action_url="app://home")])
    # What the dispatcher records for an ok outcome.
    Message.objects.filter(pk=row.pk).update(status=Message.Status.SENT, sent_at=timezone.now() - timedelta(minutes=1))

    body = api_client.get("/api/v1/contacts/usr_rahim/inbox").json()

    assert outcome.ok
    assert [(item["message_id"], item["title"], item["body"], item["action_url"]) for item in body["messages"]] == [
        (row.public_id, "স্বাগতম", "Welcome", "app://home")
    ]
