import factory
from django.contrib.auth import get_user_model

from audiences.models import Contact
from shokti.models import ApiToken, Membership, Organization, Role


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization
        django_get_or_create = ["slug"]

    slug = factory.Sequence(lambda n: f"org{n}")
    name = factory.LazyAttribute(lambda o: o.slug.title())
    timezone = "Asia/Dhaka"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = Role.MARKETER


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    organization = factory.SubFactory(OrganizationFactory)
    external_id = factory.Sequence(lambda n: f"usr_{n}")
    email = factory.LazyAttribute(lambda c: f"{c.external_id}@example.com")
    first_name = factory.Faker("first_name")
    timezone = "Asia/Dhaka"


def issue_token(membership: Membership) -> str:
    _, raw = ApiToken.issue(membership=membership)
    return raw
