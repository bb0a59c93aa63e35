import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audiences import services
from audiences.models import Contact
from tests.factories import ContactFactory, EventFactory

pytestmark = pytest.mark.django_db

CSV = """external_id,email,first_name,locale,timezone,consent_sms,attr_plan,attr_age,attr_zip
c1,c1@example.com,Nusrat,bn,Asia/Dhaka,yes,premium,34,01712
c2,not-an-email,Tanvir,en,Mars/Base,maybe,free,40,
c3,c3@example.com,Sadia,,,no,plus,,
,nobody@example.com,Nobody,,,,,,
c4,c4@example.com,Arif,en,UTC,1,free,29.5,
"""


def import_csv(api_client, text: str, **kwargs):
    return api_client.post("/api/v1/contacts/import", text.encode(), content_type="text/csv", **kwargs)


def test_good_rows_are_kept_and_bad_rows_reported_with_their_line(api_client, org):
    response = import_csv(api_client, CSV)
    assert response.status_code == 200
    report = response.json()
    assert {key: report[key] for key in ("imported", "created", "updated", "failed")} == {
        "imported": 3,
        "created": 3,
        "updated": 0,
        "failed": 2,
    }
    assert [error["row"] for error in report["errors"]] == [3, 5]
    assert {error["loc"][0] for error in report["errors"][0]["errors"]} == {"email", "timezone", "consent_sms"}
    assert report["errors"][1]["errors"][0] == {
        "loc": ["external_id"],
        "msg": "This field is required.",
        "type": "missing",
    }

    c1 = Contact.objects.get(organization=org, external_id="c1")
    assert c1.consent == {"marketing": True, "sms": True}
    assert c1.attributes == {"plan": "premium", "age": 34, "zip": "01712"}
    c3 = Contact.objects.get(organization=org, external_id="c3")
    assert (c3.locale, c3.timezone, c3.consent["sms"]) == ("bn", "", False)
    assert Contact.objects.get(organization=org, external_id="c4").attributes["age"] == 29.5


def test_reimporting_updates_instead_of_duplicating_and_empty_cells_keep_values(api_client, org):
    import_csv(api_client, CSV)
    response = import_csv(api_client, "external_id,first_name,attr_plan,attr_age\nc1,Nusrat A.,plus,\nc9,New,,\n")
    report = response.json()
    assert (report["created"], report["updated"], report["failed"]) == (1, 1, 0)
    assert Contact.objects.filter(organization=org).count() == 4
    c1 = Contact.objects.get(organization=org, external_id="c1")
    assert c1.first_name == "Nusrat A."
    assert c1.email == "c1@example.com"
    assert c1.attributes == {"plan": "plus", "age": 34, "zip": "01712"}


def test_a_multipart_upload_works_too_and_a_repeated_id_is_applied_in_order(api_client, org):
    text = 'External_ID,attributes\nm1,"{""plan"": ""free"", ""n"": 1}"\nm1,"{""plan"": ""premium"", ""n"": null}"\n'
    upload = SimpleUploadedFile("contacts.csv", ("\ufeff" + text).encode(), content_type="text/csv")
    response = api_client.post("/api/v1/contacts/import", {"file": upload}, format="multipart")
    assert response.status_code == 200, response.json()
    assert (response.json()["created"], response.json()["updated"]) == (1, 1)
    assert Contact.objects.get(organization=org, external_id="m1").attributes == {"plan": "premium"}


def test_rows_are_written_in_batches(org):
    lines = "".join(f"b{number},b{number}@example.com\n" for number in range(25))
    stream = io.BytesIO(f"external_id,email\n{lines}b3,bad\n".encode())
    report = services.contacts_import_csv(organization=org, source=stream, batch_size=10)
    assert (report.created, report.updated, report.failed) == (25, 0, 1)
    assert report.errors[0]["row"] == 27
    assert Contact.objects.filter(organization=org).count() == 25


def test_contacts_of_another_organization_are_untouched(api_client, org, other_org):
    theirs = ContactFactory(organization=other_org, external_id="c1", first_name="Theirs")
    import_csv(api_client, CSV)
    theirs.refresh_from_db()
    assert theirs.first_name == "Theirs"
    assert Contact.objects.filter(external_id="c1").count() == 2


def test_imported_contacts_pick_up_their_earlier_events(api_client, org):
    event = EventFactory(contact=None, organization=org, user_id="c1")
    import_csv(api_client, CSV)
    event.refresh_from_db()
    assert event.contact.external_id == "c1"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("\n", "The file is empty"),
        ("email,first_name\nx@example.com,X\n", "no external_id column"),
        ("external_id,favourite_colour\nx,blue\n", "Unknown column 'favourite_colour'"),
        ("external_id,email,EMAIL\nx,a@example.com,b@example.com\n", "appears twice"),
    ],
)
def test_a_bad_header_is_400_and_imports_nothing(api_client, text, message):
    response = import_csv(api_client, text)
    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_REQUEST"
    assert message in response.json()["error_message"]
    assert Contact.objects.count() == 0


def test_a_missing_file_is_400(api_client):
    response = api_client.post("/api/v1/contacts/import", {}, format="multipart")
    assert response.status_code == 400
    assert response.json()["details"]["errors"][0]["loc"] == ["body", "file"]


def test_extra_cells_and_undecodable_bytes_are_reported_and_what_came_before_stays(api_client, org):
    body = b"external_id,email\nu1,u1@example.com\nu2,u2@example.com,extra\nu3,\xff\xfe\nu4,nul\x00\nu5,\n"
    report = api_client.post("/api/v1/contacts/import", body, content_type="text/csv").json()
    assert [error["row"] for error in report["errors"]] == [3, 4, 5]
    assert report["errors"][1]["errors"][0]["type"] == "unicode_error"
    assert set(Contact.objects.filter(organization=org).values_list("external_id", flat=True)) == {"u1", "u5"}


def test_an_empty_body_is_400(api_client):
    response = import_csv(api_client, "")
    assert response.status_code == 400
    assert response.json()["details"]["errors"][0]["loc"] == ["body", "file"]


def test_formula_cells_exported_with_a_quote_import_back_as_they_were(api_client, org):
    import_csv(api_client, "external_id,first_name\nf1,'=SUM(A1)\n")
    assert Contact.objects.get(organization=org, external_id="f1").first_name == "=SUM(A1)"


@pytest.mark.postgres
def test_a_large_import_refreshes_planner_statistics(org, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("ANALYZE is PostgreSQL's")
    monkeypatch.setattr(services, "ANALYZE_AFTER_CREATED", 2)
    with CaptureQueriesContext(connection) as queries:
        services.contacts_import_csv(organization=org, source=io.BytesIO(b"external_id\na\nb\n"))
    assert any(query["sql"].startswith("ANALYZE") for query in queries.captured_queries)
