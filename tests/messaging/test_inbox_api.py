from datetime import UTC, datetime, timedelta

import pytest

from messaging.models import Message
from shokti.models import Role
from tests.factories import ContactFactory

Status = Message.Status
NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def in_app(title: str) -> dict:
    return {"in_app": {"title": title, "body": f"{title} body", "action_url": "app://offers", "icon": "gift"}}


@pytest.fixture
def rahim(org):
    return ContactFactory(organization=org, external_id="usr_rahim")


@pytest.fixture
def inbox(rahim, message_for):
    """Three sent in-app messages to Rahim (newest first) among rows that must not show."""
    oldest = message_for(
        rahim, status=Status.OPENED, sent_at=NOW - timedelta(days=2), opened_at=NOW, metadata=in_app("A")
    )
    middle = message_for(rahim, status=Status.DELIVERED, sent_at=NOW - timedelta(days=1), metadata=in_app("B"))
    newest = message_for(rahim, status=Status.SENT, sent_at=NOW, metadata=in_app("C"))
    message_for(rahim, status=Status.QUEUED, metadata=in_app("queued"))
    message_for(rahim, status=Status.FAILED, metadata=in_app("failed"))
    message_for(rahim, channel_type="email", status=Status.SENT, sent_at=NOW)
    message_for(ContactFactory(organization=rahim.organization), status=Status.SENT, sent_at=NOW, metadata=in_app("X"))
    return [newest, middle, oldest]


def test_it_lists_the_contacts_sent_in_app_messages_newest_first(api_client, inbox):
    response = api_client.get("/api/v1/contacts/usr_rahim/inbox")

    assert response.status_code == 200
    body = response.json()
    assert (body["total"], body["limit"], body["offset"], body["has_more"]) == (3, 20, 0, False)
    assert [item["message_id"] for item in body["messages"]] == [message.public_id for message in inbox]
    assert body["messages"][0] == {
        "message_id": inbox[0].public_id,
        "campaign_id": inbox[0].campaign.public_id,
        "title": "C",
        "body": "C body",
        "action_url": "app://offers",
        "icon": "gift",
        "sent_at": "2026-03-01T09:30:00Z",
        "opened_at": None,
        "read": False,
    }
    assert body["messages"][2]["read"] is True
    assert body["messages"][2]["opened_at"] == "2026-03-01T09:30:00Z"


def test_it_pages_with_limit_and_offset(api_client, inbox):
    body = api_client.get("/api/v1/contacts/usr_rahim/inbox?limit=2&offset=1").json()

    assert [item["message_id"] for item in body["messages"]] == [inbox[1].public_id, inbox[2].public_id]
    assert (body["total"], body["has_more"]) == (3, False)
    assert api_client.get("/api/v1/contacts/usr_rahim/inbox?limit=1").json()["has_more"] is True


def test_the_list_costs_a_constant_number_of_queries(api_client, rahim, message_for, django_assert_max_num_queries):
    for day in range(15):
        message_for(rahim, status=Status.SENT, sent_at=NOW - timedelta(days=day), metadata=in_app(str(day)))

    with django_assert_max_num_queries(5):
        response = api_client.get("/api/v1/contacts/usr_rahim/inbox")

    assert len(response.json()["messages"]) == 15


def test_a_message_without_stored_content_shows_empty_strings(api_client, rahim, message_for):
    message_for(rahim, status=Status.SENT, sent_at=NOW)

    [item] = api_client.get("/api/v1/contacts/usr_rahim/inbox").json()["messages"]

    assert (item["title"], item["body"], item["action_url"], item["icon"]) == ("", "", "", "")


def test_another_organizations_contact_is_not_found(api_client, other_org, message_for):
    stranger = ContactFactory(organization=other_org, external_id="usr_stranger")
    message = message_for(stranger, status=Status.SENT, sent_at=NOW, metadata=in_app("secret"))

    listed = api_client.get("/api/v1/contacts/usr_stranger/inbox")
    read = api_client.post(f"/api/v1/contacts/usr_stranger/inbox/{message.public_id}/read")

    assert listed.status_code == 404 and listed.json()["error_code"] == "USER_NOT_FOUND"
    assert read.status_code == 404
    message.refresh_from_db()
    assert message.opened_at is None


def test_the_same_external_id_in_two_organizations_stays_apart(api_client, inbox, other_org, message_for):
    twin = ContactFactory(organization=other_org, external_id="usr_rahim")
    message_for(twin, status=Status.SENT, sent_at=NOW + timedelta(hours=1), metadata=in_app("other org"))

    body = api_client.get("/api/v1/contacts/usr_rahim/inbox").json()

    assert [item["message_id"] for item in body["messages"]] == [message.public_id for message in inbox]


def test_external_ids_with_dots_and_at_signs_are_routed(api_client, org, message_for):
    contact = ContactFactory(organization=org, external_id="rahim.k@example.com")
    message_for(contact, status=Status.SENT, sent_at=NOW, metadata=in_app("hi"))

    assert api_client.get("/api/v1/contacts/rahim.k@example.com/inbox").json()["total"] == 1


def test_an_unknown_contact_is_not_found(api_client, org):
    response = api_client.get("/api/v1/contacts/nobody/inbox")

    assert response.status_code == 404
    assert response.json()["status"] == "error"


def test_the_inbox_needs_a_token(client, inbox):
    assert client.get("/api/v1/contacts/usr_rahim/inbox").status_code == 401


def test_reading_marks_the_message_opened(api_client, inbox):
    newest = inbox[0]

    response = api_client.post(f"/api/v1/contacts/usr_rahim/inbox/{newest.public_id}/read")

    assert response.status_code == 200
    item = response.json()["message"]
    assert (item["message_id"], item["read"]) == (newest.public_id, True)
    newest.refresh_from_db()
    assert newest.status == Status.OPENED
    assert newest.opened_at is not None
    assert item["opened_at"] == newest.opened_at.isoformat().replace("+00:00", "Z")


def test_reading_twice_keeps_the_first_read_time(api_client, inbox):
    url = f"/api/v1/contacts/usr_rahim/inbox/{inbox[1].public_id}/read"

    first = api_client.post(url).json()["message"]
    second = api_client.post(url).json()["message"]

    assert first == second
    inbox[1].refresh_from_db()
    assert inbox[1].status == Status.OPENED


def test_reading_a_clicked_message_keeps_its_status(api_client, rahim, message_for):
    clicked = message_for(rahim, status=Status.CLICKED, sent_at=NOW, clicked_at=NOW, metadata=in_app("C"))

    response = api_client.post(f"/api/v1/contacts/usr_rahim/inbox/{clicked.public_id}/read")

    assert response.status_code == 200
    clicked.refresh_from_db()
    assert (clicked.status, clicked.opened_at is not None) == (Status.CLICKED, True)


@pytest.mark.parametrize("message_id", ["msg_zz", "cmp_1", "msg_ffffffff"])
def test_reading_an_unknown_message_is_not_found(api_client, inbox, message_id):
    assert api_client.post(f"/api/v1/contacts/usr_rahim/inbox/{message_id}/read").status_code == 404


def test_reading_another_contacts_or_an_unsent_message_is_not_found(api_client, rahim, message_for, org):
    other = message_for(ContactFactory(organization=org), status=Status.SENT, sent_at=NOW)
    queued = message_for(rahim, status=Status.QUEUED)

    for message in (other, queued):
        assert api_client.post(f"/api/v1/contacts/usr_rahim/inbox/{message.public_id}/read").status_code == 404
        message.refresh_from_db()
        assert message.opened_at is None


def test_an_analyst_can_read_the_inbox_but_not_mark_it(client_for, org, inbox):
    analyst = client_for(org, Role.ANALYST)

    assert analyst.get("/api/v1/contacts/usr_rahim/inbox").status_code == 200
    assert analyst.post(f"/api/v1/contacts/usr_rahim/inbox/{inbox[0].public_id}/read").status_code == 403
