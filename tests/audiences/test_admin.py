"""The console: scoping to the staff user's organization, CSV import and export, segment sizes."""

import csv
import io
import json

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile

from audiences.models import Contact, Segment
from shokti.models import Role
from tests.factories import ContactFactory, MembershipFactory, SegmentFactory, ServiceFactory, UserFactory

pytestmark = pytest.mark.django_db

PREMIUM = [{"field": "attributes.plan", "operator": "eq", "value": "premium"}]


def staff_client(client, organization, role=Role.MARKETER):
    user = UserFactory(is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="audiences"))
    MembershipFactory(user=user, organization=organization, role=role)
    client.force_login(user)
    return client


@pytest.fixture
def staff(client, org):
    return staff_client(client, org)


def test_staff_see_only_their_organizations_contacts(staff, org, other_org):
    ContactFactory(organization=org, external_id="mine")
    theirs = ContactFactory(organization=other_org, external_id="theirs")
    page = staff.get("/admin/audiences/contact/")
    assert page.status_code == 200
    assert [contact.external_id for contact in page.context["cl"].result_list] == ["mine"]
    assert staff.get(f"/admin/audiences/contact/{theirs.pk}/change/").status_code == 302  # "does not exist"


def test_staff_create_rows_in_their_organization_and_choose_among_its_services(staff, org, other_org):
    response = staff.post(
        "/admin/audiences/contact/add/",
        {"external_id": "new", "locale": "bn", "consent": '{"marketing": true}', "attributes": "{}"},
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Contact.objects.get(external_id="new").organization == org

    mine, theirs = ServiceFactory(organization=org), ServiceFactory(organization=other_org)
    choices = staff.get("/admin/audiences/booking/add/").context["adminform"].form.fields["service"].queryset
    assert list(choices) == [mine]
    assert theirs not in choices


def test_a_duplicate_external_id_is_a_form_error_not_a_crash(staff, org):
    ContactFactory(organization=org, external_id="dup")
    response = staff.post("/admin/audiences/contact/add/", {"external_id": "dup", "locale": "bn", "consent": "{}"})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert Contact.objects.filter(external_id="dup").count() == 1


def test_csv_import_through_the_console(staff, org):
    assert "Import CSV" in staff.get("/admin/audiences/contact/").content.decode()
    assert staff.get("/admin/audiences/contact/import/").status_code == 200
    upload = SimpleUploadedFile("c.csv", b"external_id,email,attr_plan\nk1,k1@example.com,premium\nk2,bad,free\n")
    response = staff.post("/admin/audiences/contact/import/", {"file": upload})
    assert response.status_code == 200
    report = response.context["report"]
    assert (report.created, report.failed, report.errors[0]["row"]) == (1, 1, 3)
    assert "k2" not in set(Contact.objects.values_list("external_id", flat=True))
    assert Contact.objects.get(external_id="k1").organization == org


def test_csv_export_streams_and_imports_back(staff, org, other_org):
    ContactFactory(
        organization=org,
        external_id="e1",
        first_name="=cmd()",
        consent={"marketing": True, "sms": False},
        attributes={"plan": "premium", "age": 34},
    )
    ContactFactory(organization=other_org, external_id="e2")
    ids = list(Contact.objects.values_list("pk", flat=True))
    response = staff.post(
        "/admin/audiences/contact/", {"action": "export_contacts_csv", "_selected_action": [str(pk) for pk in ids]}
    )
    assert response.status_code == 200
    assert response.streaming
    body = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [row["external_id"] for row in rows] == ["e1"]  # the other organization's row is not exportable
    assert rows[0]["first_name"] == "'=cmd()"  # a spreadsheet will not run it
    assert (rows[0]["consent_marketing"], rows[0]["consent_sms"], rows[0]["consent_email"]) == ("true", "false", "")

    Contact.objects.filter(external_id="e1").delete()
    staff.post("/admin/audiences/contact/import/", {"file": SimpleUploadedFile("c.csv", body.encode())})
    again = Contact.objects.get(organization=org, external_id="e1")
    assert again.first_name == "=cmd()"
    assert again.consent == {"marketing": True, "sms": False}
    assert again.attributes == {"plan": "premium", "age": 34}


def test_analysts_read_but_cannot_import_or_edit(client, org):
    analyst = staff_client(client, org, Role.ANALYST)
    assert analyst.get("/admin/audiences/contact/").status_code == 200
    assert analyst.get("/admin/audiences/contact/import/").status_code == 403
    assert analyst.get("/admin/audiences/contact/add/").status_code == 403


def test_a_superuser_sees_every_organization_and_picks_one_to_import_into(admin_client, org, other_org):
    ContactFactory(organization=org)
    ContactFactory(organization=other_org)
    assert admin_client.get("/admin/audiences/contact/").context["cl"].result_count == 2
    upload = SimpleUploadedFile("c.csv", b"external_id\ns1\n")
    response = admin_client.post("/admin/audiences/contact/import/", {"file": upload})
    assert "Choose the organization" in response.content.decode()
    upload = SimpleUploadedFile("c.csv", b"external_id\ns1\n")
    admin_client.post("/admin/audiences/contact/import/", {"file": upload, "organization": other_org.pk})
    assert Contact.objects.get(external_id="s1").organization == other_org


def test_live_estimate_counts_unsaved_conditions(staff, org, other_org):
    for plan in ("premium", "premium", "free"):
        ContactFactory(organization=org, attributes={"plan": plan})
    ContactFactory(organization=other_org, attributes={"plan": "premium"})
    url = "/admin/audiences/segment/estimate/"
    response = staff.post(url, json.dumps({"conditions": PREMIUM}), content_type="application/json")
    assert response.json() == {"estimated_size": 2}
    # another organization named in the body changes nothing for staff
    response = staff.post(
        url, json.dumps({"conditions": PREMIUM, "organization": other_org.pk}), content_type="application/json"
    )
    assert response.json() == {"estimated_size": 2}
    unknown = [{"field": "x", "operator": "eq", "value": 1}]
    invalid = staff.post(url, json.dumps({"conditions": unknown}), content_type="application/json")
    assert invalid.status_code == 400
    assert invalid.json()["errors"][0]["loc"][-1] == "field"
    assert staff.post(url, "{", content_type="application/json").status_code == 400
    assert staff.get(url).status_code == 403


def test_live_estimate_is_for_staff_only(client, org):
    url = "/admin/audiences/segment/estimate/"
    assert client.post(url, "{}", content_type="application/json").status_code == 302
    client.force_login(UserFactory(is_staff=False))
    assert client.post(url, "{}", content_type="application/json").status_code == 302


def test_the_segment_form_loads_the_live_estimate_script(staff):
    page = staff.get("/admin/audiences/segment/add/").content.decode()
    assert "audiences/segment_estimate.js" in page
    assert 'data-estimate-url="/admin/audiences/segment/estimate/"' in page


def test_saving_a_segment_validates_conditions_and_stores_its_size(staff, org):
    ContactFactory(organization=org, attributes={"plan": "premium"})
    bad = staff.post(
        "/admin/audiences/segment/add/",
        {"public_id": "seg_x", "name": "X", "conditions": '[{"field": "nope", "operator": "eq", "value": 1}]'},
    )
    assert bad.status_code == 200
    assert "0.field: Unknown field" in str(bad.context["adminform"].form.errors)
    good = staff.post(
        "/admin/audiences/segment/add/",
        {"public_id": "seg_premium_users", "name": "Premium", "conditions": json.dumps(PREMIUM)},
    )
    assert good.status_code == 302
    segment = Segment.objects.get(public_id="seg_premium_users")
    assert (segment.organization, segment.estimated_size) == (org, 1)


def test_re_estimate_action_updates_the_size_column(staff, org):
    segment = SegmentFactory(organization=org, conditions=PREMIUM)
    ContactFactory(organization=org, attributes={"plan": "premium"})
    staff.post("/admin/audiences/segment/", {"action": "refresh_estimates", "_selected_action": [segment.pk]})
    segment.refresh_from_db()
    assert segment.estimated_size == 1
    assert "1" in staff.get("/admin/audiences/segment/").content.decode()
