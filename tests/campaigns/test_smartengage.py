"""SmartEngage through the one engine: seed 000's run-segment, seed 001's sends, segmentation and deep links."""

import email
import email.policy
import re
import uuid
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from audiences.demo import HOME_CLEANING_ID, PLUMBING_ID, load_demo_audience
from audiences.models import Contact, Suppression
from audiences.services import contacts_refresh_last_booking
from campaigns import smartengage
from campaigns.models import SmartEngageRun
from messaging import deeplinks
from messaging.models import Message
from shokti.celery import app as celery_app
from shokti.models import Role
from tests.factories import BookingFactory, ContactFactory, MessageFactory, OrganizationFactory, ServiceFactory

pytestmark = pytest.mark.django_db

REGULAR = "229211b0-9cf4-4e36-b707-d593034bfb0f"
VIP = "201df462-8e81-475b-9b9b-2a2946218312"
NEW = "55a91395-0760-4c57-a7db-ad97f2256917"
RUN_SEGMENT = "/internal/ai/smartengage/run-segment"


@pytest.fixture
def demo(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SHOKTI_INTERNAL_TOKEN = "internal-secret"
    settings.OPENAI_API_KEY = settings.OPENAI_BASE_URL = ""
    settings.SHOKTI_PUBLIC_URL = "https://go.example.com"
    organization = OrganizationFactory(slug="demo")
    load_demo_audience(organization)
    return organization


@pytest.fixture
def internal():
    client = APIClient()
    client.credentials(HTTP_X_INTERNAL_TOKEN="internal-secret")
    return client


@pytest.fixture
def eager(monkeypatch):
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)


def mails(settings) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(sent.message().as_bytes(), policy=email.policy.default) for sent in mail.outbox]


def bengali_share(text: str) -> float:
    text = re.sub(r"https?://\S+|navidkamal\d+|Shokti|VIP20", "", text)
    bengali = len(re.findall(r"[\u0980-\u09FF]", text))
    return bengali / max(bengali + len(re.findall(r"[A-Za-z]", text)), 1)


# --- seed 001: send-single and send-bulk ------------------------------------------------------------


def test_send_single_sends_a_bengali_reminder_through_the_engine(demo, internal, settings):
    response = internal.post("/admin/smartengage/send-single", {
        "customer_id": VIP, "message_type": "reminder", "service_id": str(PLUMBING_ID),
        "promo_code": "VIP20", "ttl_hours": 72,
    }, format="json")  # fmt: skip

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["success"] is True and body["channel"] == "EMAIL" and body["promo_code"] == "VIP20"
    assert body["message"] == "Reminder with promo sent successfully"
    message = Message.objects.get(execution__smartengage_run__correlation_id=body["correlation_id"])
    assert message.public_id == body["message_id"] and message.status == "sent"
    assert (message.role, message.agent_type, message.message_type, message.locale) == (
        "CUSTOMER",
        "smartengage",
        "REMINDER",
        "bn",
    )
    assert message.safety_checks["safe"] is True and message.model == "offline-template"
    [mail] = mails(settings)
    text = mail.get_body(("plain",)).get_content()
    assert "VIP20" in text and "২০%" in text and "মূল্যবান গ্রাহক" in text  # VIP tone and its promo
    assert "প্লাম্বিং" in mail["Subject"] and bengali_share(text) > 0.8
    assert mail["List-Unsubscribe"]


def test_send_single_answers_seed_001_for_each_profile(demo, internal, settings):
    for customer, service, promo, tone in [(REGULAR, HOME_CLEANING_ID, None, "আশা করি আপনি ভালো আছেন"),
                                           (NEW, PLUMBING_ID, "WELCOME10", "স্বাগতম")]:  # fmt: skip
        response = internal.post("/admin/smartengage/send-single", {
            "customer_id": customer, "message_type": "reminder", "service_id": str(service),
            "promo_code": promo, "ttl_hours": 48}, format="json")  # fmt: skip
        assert response.status_code == 200 and response.json()["success"] is True
        assert tone in mails(settings)[-1].get_body(("plain",)).get_content()


def test_send_bulk_sends_to_all_three_with_bypassed_caps(demo, internal, settings):
    internal.post("/admin/smartengage/send-single", {"customer_id": REGULAR}, format="json")
    response = internal.post("/admin/smartengage/send-bulk", {
        "customer_ids": [REGULAR, VIP, NEW], "message_type": "reminder", "promo_code": "DEMO15",
        "bypass_frequency_caps": True,
    }, format="json")  # fmt: skip

    body = response.json()
    assert response.status_code == 200, body
    assert (body["status"], body["total_eligible"], body["sent"], body["failed"], body["skipped"]) == (
        "completed",
        3,
        3,
        0,
        0,
    )
    assert {line["customer_id"] for line in body["results"]} == {REGULAR, VIP, NEW}
    assert all(line["success"] for line in body["results"])
    assert all("DEMO15" in mail.get_body(("plain",)).get_content() for mail in mails(settings)[1:])


def test_send_bulk_without_bypass_skips_those_messaged_in_the_last_day(demo, internal):
    internal.post("/admin/smartengage/send-single", {"customer_id": REGULAR}, format="json")
    body = internal.post("/admin/smartengage/send-bulk", {"customer_ids": [REGULAR, VIP]}, format="json").json()
    assert (body["sent"], body["skipped"]) == (1, 1)
    assert {line["customer_id"]: line.get("skipped") for line in body["results"]}[REGULAR] == "frequency_cap"


def test_bypass_never_bypasses_consent_or_an_unsubscribe(demo, internal):
    Contact.objects.filter(pk=VIP).update(consent={"marketing": False})
    Suppression.objects.create(organization=demo, channel_type="email", address="navidkamal568@example.com",
                               reason="unsubscribed")  # fmt: skip
    body = internal.post(
        "/admin/smartengage/send-bulk",
        {"customer_ids": [REGULAR, VIP, NEW], "bypass_frequency_caps": True},
        format="json",
    ).json()
    assert (body["sent"], body["skipped"]) == (1, 2)
    single = internal.post("/admin/smartengage/send-single", {"customer_id": VIP}, format="json").json()
    assert single["success"] is False and single["reason"] == "no_consent"


def test_send_single_validates_and_changes_nothing_on_error(demo, internal):
    bad = internal.post("/admin/smartengage/send-single", {"customer_id": "nope", "ttl_hours": 0}, format="json")
    assert bad.status_code == 422
    assert {tuple(e["loc"]) for e in bad.json()["details"]["errors"]} == {
        ("body", "customer_id"),
        ("body", "ttl_hours"),
    }
    missing = internal.post("/admin/smartengage/send-single", {"customer_id": str(uuid.uuid4())}, format="json")
    assert missing.status_code == 404 and missing.json()["error_code"] == "USER_NOT_FOUND"
    assert not Message.objects.exists() and not SmartEngageRun.objects.exists()


def test_operator_endpoints_take_a_marketer_token_but_not_an_analyst(demo, client_for, settings):
    assert (
        client_for(demo, Role.MARKETER)
        .post("/admin/smartengage/send-single", {"customer_id": REGULAR}, format="json")
        .status_code
        == 200
    )
    assert (
        client_for(demo, Role.ANALYST)
        .post("/admin/smartengage/send-single", {"customer_id": REGULAR}, format="json")
        .status_code
        == 403
    )
    assert APIClient().post("/admin/smartengage/send-single", {"customer_id": REGULAR},
                            format="json").status_code == 401  # fmt: skip


# --- seed 000: run-segment -----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_run_segment_sends_to_the_cadence_segment_and_waits_for_the_result(demo, internal, eager):
    # Transactional, as in production: the dispatch queued on commit runs (eagerly) before the view waits.
    response = internal.post(RUN_SEGMENT, {"booking_cadence_days": 21, "promo_code": "SPECIAL10",
                                           "send_window_start": 0, "send_window_end": 23}, format="json")  # fmt: skip
    body = response.json()
    assert response.status_code == 202, body
    assert body["status"] == "started" and body["message"] == "SmartEngage campaign completed successfully"
    result = body["campaign_result"]
    seeded = {line["customer_id"] for line in result["results"]}
    assert {REGULAR, VIP, NEW} <= seeded
    assert result["sent"] == result["total_eligible"] == len(seeded)
    history = internal.get("/internal/jobs/history?type=smartengage").json()["runs"]
    assert history[0]["correlation_id"] == body["correlation_id"] and history[0]["status"] == "DONE"
    assert history[0]["sent"] == result["sent"]

    # Everyone just messaged is capped for 24 hours: a second run finds nobody.
    again = internal.post(RUN_SEGMENT, {"booking_cadence_days": 21, "send_window_start": 0,
                                        "send_window_end": 23}, format="json").json()  # fmt: skip
    assert again["campaign_result"]["total_eligible"] == 0


def test_run_segment_dry_run_renders_but_sends_nothing(demo, internal, settings):
    body = internal.post(RUN_SEGMENT, {"preset": "aggressive", "dry_run": True}, format="json").json()
    assert body["campaign_result"]["dry_run"] is True and body["campaign_result"]["sent"] == 0
    assert all("COMEBACK15" in line["text"] for line in body["campaign_result"]["results"])
    assert not Message.objects.exists() and mails(settings) == []


def test_a_long_run_answers_accepted_and_is_read_from_history(demo, internal):
    # No worker runs the batches here: the run outlasts wait_seconds.
    body = internal.post(RUN_SEGMENT, {"wait_seconds": 0, "send_window_start": 0, "send_window_end": 23},
                         format="json").json()  # fmt: skip
    assert body["status"] == "accepted" and body["campaign_result"] is None
    [run] = internal.get(f"/internal/jobs/history?correlation_id={body['correlation_id']}").json()["runs"]
    assert run["status"] == "RUNNING" and run["total_eligible"] >= 3


@pytest.mark.parametrize(
    ("body", "loc", "kind"),
    [
        ({"booking_cadence_days": 6}, "booking_cadence_days", "greater_than_equal"),
        ({"booking_cadence_days": 91}, "booking_cadence_days", "less_than_equal"),
        ({"send_window_start": -1}, "send_window_start", "greater_than_equal"),
        ({"send_window_end": 24}, "send_window_end", "less_than_equal"),
        ({"batch_size": 0}, "batch_size", "greater_than_equal"),
        ({"batch_size": 1001}, "batch_size", "less_than_equal"),
        ({"promo_code": "X" * 51}, "promo_code", "string_too_long"),
        ({"preset": "reckless"}, "preset", "enum"),
    ],
)
def test_run_segment_answers_422_per_seed_000_rule(demo, internal, body, loc, kind):
    response = internal.post(RUN_SEGMENT, body, format="json")
    assert response.status_code == 422
    payload = response.json()
    assert payload["error"] == "Validation error" and payload["correlation_id"]
    assert payload["details"]["errors"][0]["loc"] == ["body", loc] and payload["details"]["errors"][0]["type"] == kind
    assert not SmartEngageRun.objects.exists()


def test_run_segment_answers_400_for_an_empty_send_window(demo, internal):
    response = internal.post(RUN_SEGMENT, {"send_window_start": 18, "send_window_end": 9}, format="json")
    assert response.status_code == 400 and response.json()["error"] == "Invalid campaign parameters"
    assert internal.post(RUN_SEGMENT, b"{", content_type="application/json").status_code == 400


def test_run_segment_needs_the_internal_token(demo):
    assert APIClient().post(RUN_SEGMENT, {}, format="json").status_code == 401


@pytest.mark.parametrize(("preset", "expected"), list(smartengage.PRESETS.items()))
def test_presets_override_every_other_parameter(preset, expected):
    params = smartengage.smartengage_parameters({"preset": preset, "booking_cadence_days": 60, "promo_code": "X1"})
    assert {key: params[key] for key in expected} == expected


# --- segmentation ------------------------------------------------------------------------------------


def _customer(org, days_ago, **fields):
    fields.setdefault("consent", {"marketing": True})
    booking = BookingFactory(contact=ContactFactory(organization=org, **fields),
                             finished_at=timezone.now() - timedelta(days=days_ago, hours=1))  # fmt: skip
    contacts_refresh_last_booking(contact_ids=[booking.contact_id])
    return booking.contact


def test_the_segment_takes_the_cadence_with_two_days_tolerance_and_consent(org, django_assert_max_num_queries):
    inside = [_customer(org, days) for days in (19, 21, 23)]
    outside = [_customer(org, days) for days in (18, 24)]
    refused = _customer(org, 21, consent={"marketing": False})
    with django_assert_max_num_queries(1):
        eligible = set(
            smartengage.eligible_customers(organization=org.pk, cadence_days=21).values_list("pk", flat=True)
        )
    assert eligible == {contact.pk for contact in inside}
    assert not eligible & {contact.pk for contact in [*outside, refused]}


def test_the_segment_leaves_out_the_suppressed_and_those_messaged_in_a_day(org):
    messaged, suppressed, fine = (_customer(org, 21) for _ in range(3))
    MessageFactory(organization=org, contact=messaged, sent=True, agent_type="smartengage")
    Suppression.objects.create(organization=org, channel_type="email", address=suppressed.email.upper().lower(),
                               reason="unsubscribed")  # fmt: skip
    assert list(smartengage.eligible_customers(organization=org.pk, cadence_days=21)) == [fine]


# --- deep links --------------------------------------------------------------------------------------


def test_the_deep_link_redirects_to_the_booking_app_and_records_a_click(demo, internal, settings):
    settings.SHOKTI_BOOKING_APP_URL = "https://book.example.com/start"
    internal.post("/admin/smartengage/send-single", {"customer_id": VIP, "promo_code": "VIP20"}, format="json")
    message = Message.objects.get()
    token = re.search(r"/book\?token=([\w.-]+)", message.generated_text).group(1)

    response = APIClient().get("/book", {"token": token})

    assert response.status_code == 302
    assert response["Location"].startswith("https://book.example.com/start?token=")
    assert "promo=VIP20" in response["Location"] and f"customer_id={VIP}" in response["Location"]
    message.refresh_from_db()
    assert message.clicked_at is not None and message.user_response == "CLICKED"


def test_a_tampered_deep_link_is_400_and_an_expired_one_410(demo):
    token = deeplinks.booking_token(customer_id=VIP, service_id=None, promo_code="VIP20", ttl_hours=1, message_pk=None)
    header, _payload, signature = token.split(".")
    forged = deeplinks.booking_token(customer_id=VIP, service_id=None, promo_code="FREE90", ttl_hours=1,
                                     message_pk=None).split(".")[1]  # fmt: skip
    assert APIClient().get("/book", {"token": f"{header}.{forged}.{signature}"}).status_code == 400
    assert APIClient().get("/book", {"token": token[:-2]}).status_code == 400

    expired = deeplinks.booking_token(customer_id=VIP, service_id=None, promo_code=None, ttl_hours=-1, message_pk=None)
    response = APIClient().get("/book", {"token": expired})
    assert response.status_code == 410 and response.json()["error_code"] == "LINK_EXPIRED"


def _held_elsewhere(name: str):
    """The lock taken by another database session (an advisory lock is re-entrant within one)."""
    from contextlib import contextmanager

    import psycopg
    from django.db import connection

    from campaigns import locks

    @contextmanager
    def holding():
        if connection.vendor != "postgresql":
            with locks.try_exclusive(name) as held:
                yield held
            return
        params = connection.settings_dict
        with psycopg.connect(host=params["HOST"], port=params["PORT"], user=params["USER"],
                             dbname=params["NAME"], password=params["PASSWORD"] or None, autocommit=True) as other:  # fmt: skip
            yield other.execute("SELECT pg_try_advisory_lock(%s)", [locks._advisory_key(name)]).fetchone()[0]

    return holding()


def test_the_locked_daily_run_is_skipped_and_recorded(demo):
    smartengage.smartengage_campaign(demo)
    with _held_elsewhere(f"smartengage:segment:{demo.pk}") as held:
        assert held
        [run] = smartengage.smartengage_daily()
    assert run.status == SmartEngageRun.Status.SKIPPED_LOCKED and not Message.objects.exists()


def test_the_daily_run_is_a_beat_entry_at_nine_utc():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="campaigns.tasks.smartengage_daily_run")
    assert (task.crontab.hour, task.crontab.minute, str(task.crontab.timezone)) == ("9", "0", "UTC")


def test_services_unused_helper_factories_stay_scoped(org):
    assert ServiceFactory(organization=org).organization == org


# --- the ai generator: the real openai client against a real OpenAI-compatible server on loopback ----------

COMPLETIONS = "/chat/completions"
GOOD_BN = {"subject": "আপনার প্লাম্বিং সার্ভিসের সময় হয়েছে",
           "body": "প্রিয় গ্রাহক, আপনার বাড়ির যত্নে আবার আমাদের সার্ভিস নিন। আজই বুক করুন!"}  # fmt: skip
FAST_RETRY = {"retry-after-ms": "10"}


def completion(content: dict | str) -> dict:
    text = content if isinstance(content, str) else __import__("json").dumps(content, ensure_ascii=False)
    return {"id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": "gpt-4o-mini",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}  # fmt: skip


@pytest.fixture
def model_server(demo, http_server, settings):
    from tests.servers import Reply

    settings.OPENAI_BASE_URL = http_server.url
    settings.OPENAI_API_KEY = "test-key"
    settings.OPENAI_MAX_RETRIES = 2
    settings.OPENAI_TIMEOUT_SECONDS = 5
    http_server.script(COMPLETIONS, Reply(200, completion(GOOD_BN)))
    return http_server


def send_one(internal, customer=VIP) -> Message:
    body = internal.post("/admin/smartengage/send-single", {"customer_id": customer, "promo_code": "VIP20"},
                         format="json").json()  # fmt: skip
    assert body["success"] is True, body
    return Message.objects.get(execution__smartengage_run__correlation_id=body["correlation_id"])


def test_the_ai_generator_writes_the_text_with_the_recorded_prompt_version(model_server, internal):
    message = send_one(internal)

    [request] = model_server.requests_to(COMPLETIONS)
    sent = request.json()
    assert sent["model"] == "gpt-4o-mini" and request.headers["authorization"] == "Bearer test-key"
    assert "Bengali" in sent["messages"][0]["content"] and "VIP20" in sent["messages"][1]["content"]
    assert (message.model, message.prompt_version) == ("gpt-4o-mini", 1)
    assert message.generated_text.startswith(GOOD_BN["body"]) and "/book?token=" in message.generated_text
    assert message.safety_checks == {"safe": True, "reasons": [], "fallback": False,
                                     "checks": ["promo", "links", "customer_data", "length", "script", "blocklist"]}  # fmt: skip
    assert mail.outbox[0].subject == GOOD_BN["subject"]


def test_a_429_is_retried_and_the_second_answer_used(model_server, internal):
    from tests.servers import Reply

    model_server.script(COMPLETIONS, Reply(429, {"error": {"message": "slow down"}}, headers=FAST_RETRY),
                        Reply(200, completion(GOOD_BN)))  # fmt: skip
    message = send_one(internal)
    assert len(model_server.requests_to(COMPLETIONS)) == 2
    assert message.model == "gpt-4o-mini" and message.safety_checks["fallback"] is False


def test_500s_until_the_retries_run_out_fall_back_to_the_approved_template(model_server, internal):
    from tests.servers import Reply

    model_server.script(COMPLETIONS, Reply(500, {"error": {"message": "boom"}}, headers=FAST_RETRY))
    message = send_one(internal)
    assert len(model_server.requests_to(COMPLETIONS)) == 3  # the first try and OPENAI_MAX_RETRIES
    assert message.model == "offline-template" and message.safety_checks["fallback"] is True
    assert "InternalServerError" in message.safety_checks["generation_error"]
    assert "মূল্যবান গ্রাহক" in message.generated_text


def test_a_too_slow_answer_times_out_and_falls_back(model_server, internal, settings):
    from tests.servers import Reply

    settings.OPENAI_TIMEOUT_SECONDS, settings.OPENAI_MAX_RETRIES = 0.3, 0
    model_server.script(COMPLETIONS, Reply(200, completion(GOOD_BN), delay=1.5))
    message = send_one(internal)
    assert message.model == "offline-template" and "Timeout" in message.safety_checks["generation_error"]


def test_an_unsafe_text_is_caught_and_replaced_by_the_approved_template(model_server, internal):
    from tests.servers import Reply

    unsafe = {"subject": "অফার!", "body": "প্রিয় গ্রাহক, FREE50 কোডে ৫০% ছাড়! navidkamal568@example.com "
                                          "এর মতো বুক করুন https://evil.example.com/win"}  # fmt: skip
    model_server.script(COMPLETIONS, Reply(200, completion(unsafe)))
    message = send_one(internal)
    reasons = message.safety_checks["reasons"]
    assert message.safety_checks["safe"] is False and message.safety_checks["fallback"] is True
    assert any(r.startswith("promo: unexpected code FREE50") for r in reasons)
    assert any(r.startswith("promo: discount 50%") for r in reasons)
    assert any(r.startswith("links:") for r in reasons) and any(r.startswith("customer_data:") for r in reasons)
    assert "evil" not in mail.outbox[0].body and "VIP20" in mail.outbox[0].body


def test_english_customers_get_english_and_a_bengali_answer_fails_the_script_check(model_server, internal):
    Contact.objects.filter(pk=REGULAR).update(locale="en")
    message = send_one(internal, REGULAR)
    assert "English" in model_server.requests_to(COMPLETIONS)[0].json()["messages"][0]["content"]
    assert message.safety_checks["reasons"] == ["script: expected English (Latin script)"]
    assert message.generated_text.startswith("Dear kamalnavid50")


def test_a_batch_is_generated_concurrently(model_server, internal, settings):

    from tests.servers import Reply

    ids = [str(pk) for pk in Contact.objects.filter(organization__slug="demo").values_list("pk", flat=True)[:20]]
    settings.OPENAI_CONCURRENCY = 20
    model_server.script(COMPLETIONS, Reply(200, completion(GOOD_BN), delay=0.3))
    body = internal.post("/admin/smartengage/send-bulk", {"customer_ids": ids, "bypass_frequency_caps": True},
                         format="json").json()  # fmt: skip
    requests = model_server.requests_to(COMPLETIONS)
    assert len(requests) == body["sent"] + body["failed"] > 10
    # One after another, each request would start only once the previous 0.3 s answer came back.
    arrivals = sorted(request.received_at for request in requests)
    assert arrivals[1] - arrivals[0] < 0.3


def test_the_generator_keeps_to_the_concurrency_limit(model_server, settings):
    from messaging import generation
    from messaging.models import Prompt
    from tests.servers import Reply

    settings.OPENAI_CONCURRENCY = 2
    model_server.script(COMPLETIONS, Reply(200, completion(GOOD_BN), delay=0.2))
    requests = [generation.GenerationRequest(key=n, locale="bn", customer_name="x", service_name="y", days_since=1,
                                             bookings=1, promo_code=None, deep_link="https://l") for n in range(6)]  # fmt: skip
    generation.generate_batch(requests, Prompt.objects.get(version=1))
    starts = sorted(r.received_at for r in model_server.requests_to(COMPLETIONS))
    assert starts[-1] - starts[0] >= 0.35  # three waves of two


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_daily_runs_on_postgresql_send_once(settings, monkeypatch):
    import threading

    from django.db import connection, connections
    from django.db.models import Count

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.OPENAI_API_KEY = settings.OPENAI_BASE_URL = ""
    organization = OrganizationFactory(slug="demo")
    load_demo_audience(organization)
    smartengage.smartengage_campaign(organization)
    barrier, runs = threading.Barrier(2), []

    def daily():
        try:
            barrier.wait()
            runs.extend(smartengage.smartengage_daily("default"))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=daily) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(runs) == 2
    per_contact = Message.objects.exclude(status="skipped").values("contact").annotate(n=Count("id"))
    assert per_contact and all(row["n"] == 1 for row in per_contact)
    sending_runs = {m.execution_id for m in Message.objects.exclude(status="skipped")}
    assert len(sending_runs) == 1


def test_metrics_show_seed_001_families_from_the_database(demo, internal):
    send_one_offline = internal.post("/admin/smartengage/send-single", {"customer_id": VIP}, format="json")
    assert send_one_offline.json()["success"] is True

    text = APIClient().get("/metrics").content.decode()

    assert ('ai_messages_sent_total{agent_type="smartengage",channel="EMAIL",message_type="REMINDER",status="sent"} 1.0'
            in text)  # fmt: skip
    assert 'ai_messages_delivery_status{status="sent"} 1.0' in text
    assert "ai_message_generation_duration_seconds_count 1.0" in text
