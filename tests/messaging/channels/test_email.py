import email
import email.policy
import re

import pytest

from messaging.channels.base import get_channel
from messaging.channels.email import EmailChannel

BENGALI_SUBJECT = "রহিম, আপনার হোম ক্লিনিং বুক করুন"


def unsubscribe_headers(public_id: str) -> dict[str, str]:
    return {
        "List-Unsubscribe": f"<https://shokti.example/u/{public_id}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


@pytest.fixture
def mail(outgoing):
    def make(recipient="rahim@example.com", **fields):
        message = outgoing(
            "email",
            recipient=recipient,
            subject=fields.pop("subject", BENGALI_SUBJECT),
            html=fields.pop("html", "<p>২২ দিন হয়ে গেছে। <a href='https://shokti.example/t/c/x'>বুক করুন</a></p>"),
            text=fields.pop("text", "২২ দিন হয়ে গেছে। বুক করুন: https://shokti.example/t/c/x"),
            **fields,
        )
        message.headers = {**unsubscribe_headers(message.public_id), **message.headers}
        return message

    return make


@pytest.fixture
def smtp(settings, smtp_server):
    smtp_server.configure(settings)
    settings.DEFAULT_FROM_EMAIL = "Shokti <noreply@shokti.example>"
    settings.SHOKTI_MAIL_DOMAIN = ""
    return smtp_server


def test_the_registry_serves_the_email_channel():
    assert isinstance(get_channel("email"), EmailChannel)


def test_a_batch_goes_over_one_smtp_connection_with_every_header(smtp, mail):
    batch = [mail(f"user{n}@example.com", reply_to="help@shokti.example") for n in range(3)]

    outcomes = EmailChannel().send(batch)

    assert [outcome.ok for outcome in outcomes] == [True, True, True]
    assert smtp.connections == 1
    assert [received.rcpt_tos for received in smtp.mails] == [[f"user{n}@example.com"] for n in range(3)]
    message_ids = set()
    for message, outcome, received in zip(batch, outcomes, smtp.mails, strict=True):
        parsed = received.message
        assert parsed["Message-ID"] == outcome.provider_message_id
        assert parsed["Message-ID"].endswith(f".{message.public_id}@shokti.example>")
        message_ids.add(parsed["Message-ID"])
        assert parsed["List-Unsubscribe"] == f"<https://shokti.example/u/{message.public_id}>"
        assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert parsed["From"] == "Shokti <noreply@shokti.example>"
        assert parsed["Reply-To"] == "help@shokti.example"
        assert received.mail_from == "noreply@shokti.example"
    assert len(message_ids) == 3


def test_the_text_and_html_parts_and_a_bengali_subject_survive_the_wire(smtp, mail):
    [outcome] = EmailChannel().send([mail()])

    assert outcome.ok
    [received] = smtp.mails
    raw_headers = received.content.split(b"\r\n\r\n", 1)[0]
    # RFC 2047 encoded words: the headers stay 7-bit for any relay.
    assert re.search(rb"\r\nSubject:\s+=\?utf-8\?b\?", raw_headers)
    assert raw_headers.isascii()
    parsed = received.message
    # Django folds the encoded subject onto a continuation line; readers drop the leading space.
    assert parsed["Subject"].strip() == BENGALI_SUBJECT
    assert parsed.get_content_type() == "multipart/alternative"
    assert parsed.get_body(("plain",)).get_content().strip() == "২২ দিন হয়ে গেছে। বুক করুন: https://shokti.example/t/c/x"
    assert "<a href='https://shokti.example/t/c/x'>বুক করুন</a>" in parsed.get_body(("html",)).get_content()


def test_a_hard_bounce_is_permanent_and_the_batch_goes_on(smtp, mail):
    smtp.refuse("gone@example.com", "550 5.1.1 User unknown")
    batch = [mail("a@example.com"), mail("gone@example.com"), mail("b@example.com")]

    outcomes = EmailChannel().send(batch)

    assert [outcome.ok for outcome in outcomes] == [True, False, True]
    bounced = outcomes[1]
    assert (bounced.permanent, bounced.bounce_type) == (True, "hard")
    assert "550" in bounced.error and "User unknown" in bounced.error
    assert [received.rcpt_tos for received in smtp.mails] == [["a@example.com"], ["b@example.com"]]
    assert smtp.connections == 1


def test_a_temporary_refusal_is_transient(smtp, mail):
    smtp.refuse("full@example.com", "451 4.2.2 Mailbox full, try later")

    [outcome] = EmailChannel().send([mail("full@example.com")])

    assert not outcome.ok
    assert (outcome.permanent, outcome.bounce_type) == (False, "")
    assert "451" in outcome.error


def test_a_dropped_connection_is_redialled_once_and_the_batch_completes(smtp, mail):
    smtp.drop_once("b@example.com")
    batch = [mail("a@example.com"), mail("b@example.com"), mail("c@example.com")]

    outcomes = EmailChannel().send(batch)

    assert [outcome.ok for outcome in outcomes] == [True, True, True]
    assert [received.rcpt_tos for received in smtp.mails] == [["a@example.com"], ["b@example.com"], ["c@example.com"]]
    assert smtp.connections == 2


def test_a_second_drop_fails_the_rest_of_the_batch_as_transient(smtp, mail):
    smtp.drop_once("b@example.com")
    smtp.drop_once("c@example.com")
    batch = [mail("a@example.com"), mail("b@example.com"), mail("c@example.com"), mail("d@example.com")]

    outcomes = EmailChannel().send(batch)

    assert [outcome.message_pk for outcome in outcomes] == [message.message_pk for message in batch]
    assert [(outcome.ok, outcome.permanent) for outcome in outcomes] == [
        (True, False), (True, False), (False, False), (False, False),
    ]  # fmt: skip


def test_an_unreachable_server_fails_the_batch_as_transient(settings, mail):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False

    outcomes = EmailChannel().send([mail(), mail()])

    assert [(outcome.ok, outcome.permanent) for outcome in outcomes] == [(False, False), (False, False)]
    assert outcomes[0].error.startswith("Mail server unavailable")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"List-Unsubscribe": "<https://shokti.example/u/x>"},
        {"List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
        {"List-Unsubscribe": "<https://shokti.example/u/x>", "List-Unsubscribe-Post": "yes"},
    ],
)
def test_an_email_without_one_click_unsubscribe_is_refused(smtp, outgoing, mail, headers):
    incomplete = outgoing("email", recipient="a@example.com", subject="Hi", text="Hi", headers=headers)

    outcomes = EmailChannel().send([incomplete, mail("b@example.com")])

    assert not outcomes[0].ok and outcomes[0].permanent
    assert "List-Unsubscribe" in outcomes[0].error
    assert outcomes[1].ok
    assert [received.rcpt_tos for received in smtp.mails] == [["b@example.com"]]


def test_unsubscribe_headers_are_found_whatever_their_case(smtp, outgoing):
    message = outgoing(
        "email",
        recipient="a@example.com",
        subject="Hi",
        text="Hi",
        headers={
            "list-unsubscribe": "<https://shokti.example/u/x>",
            "list-unsubscribe-post": "List-Unsubscribe=One-Click",
        },
    )

    [outcome] = EmailChannel().send([message])

    assert outcome.ok


def test_the_campaign_sender_and_a_configured_domain_are_used(smtp, mail, settings):
    settings.SHOKTI_MAIL_DOMAIN = "mail.shokti.example"
    batch = [
        mail(sender_name="শক্তি অফার", sender_email="offers@acme.example"),
        mail(sender_name="Acme, Inc."),
        mail(sender_email="news@acme.example"),
    ]

    outcomes = EmailChannel().send(batch)

    assert all(outcome.ok for outcome in outcomes)
    senders = [received.message["From"] for received in smtp.mails]
    assert senders == ["শক্তি অফার <offers@acme.example>", '"Acme, Inc." <noreply@shokti.example>', "news@acme.example"]
    assert all(outcome.provider_message_id.endswith("@mail.shokti.example>") for outcome in outcomes)


def test_an_html_only_email_gets_a_text_part(smtp, mail):
    [outcome] = EmailChannel().send([mail(text="", html="<p>Hello <b>Rahim</b></p>")])

    assert outcome.ok
    assert smtp.mails[0].message.get_body(("plain",)).get_content().strip() == "Hello Rahim"


def test_an_unparsable_recipient_is_permanent(smtp, mail):
    [outcome] = EmailChannel().send([mail("rahim@example.com, karim@example.com\n")])

    assert not outcome.ok and outcome.permanent
    assert smtp.mails == []


def test_the_mailbox_backend_writes_one_eml_per_message(settings, tmp_path, mail):
    settings.EMAIL_BACKEND = "shokti.mail.MailboxBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path)
    settings.DEFAULT_FROM_EMAIL = "Shokti <noreply@shokti.example>"
    batch = [mail("a@example.com"), mail("b@example.com")]

    outcomes = EmailChannel().send(batch)

    assert all(outcome.ok for outcome in outcomes)
    files = sorted(tmp_path.glob("*.eml"))
    assert len(files) == 2
    parsed = [email.message_from_bytes(path.read_bytes(), policy=email.policy.default) for path in files]
    assert {message["Message-ID"] for message in parsed} == {outcome.provider_message_id for outcome in outcomes}
    assert {message["To"] for message in parsed} == {"a@example.com", "b@example.com"}
    assert all(message["Subject"].strip() == BENGALI_SUBJECT for message in parsed)
    assert all(message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click" for message in parsed)
