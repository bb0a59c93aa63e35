from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from audiences.models import Booking, Contact, Event, Segment, Service
from campaigns.models import Campaign, Channel, Execution
from messaging.models import Message
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


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Service {n}")
    category = Service.Category.CLEANING
    price = 500


class BookingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Booking

    contact = factory.SubFactory(ContactFactory)
    organization = factory.SelfAttribute("contact.organization")
    service = factory.SubFactory(ServiceFactory, organization=factory.SelfAttribute("..organization"))
    status = Booking.Status.COMPLETED
    finished_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    scheduled_at = factory.LazyAttribute(lambda b: (b.finished_at or timezone.now()) - timedelta(hours=2))
    total_price = factory.SelfAttribute("service.price")


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Event

    contact = factory.SubFactory(ContactFactory)
    organization = factory.SelfAttribute("contact.organization")
    event_id = factory.Sequence(lambda n: f"evt_{n}")
    event_type = "app_open"
    user_id = factory.SelfAttribute("contact.external_id")
    occurred_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))


class SegmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Segment

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Segment {n}")
    conditions = factory.LazyFunction(list)


def issue_token(membership: Membership) -> str:
    _, raw = ApiToken.issue(membership=membership)
    return raw


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Campaign {n}")
    campaign_type = Campaign.Type.SCHEDULED
    created_by = "system"


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel

    campaign = factory.SubFactory(CampaignFactory)
    channel_type = Channel.Type.EMAIL


class ExecutionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Execution

    campaign = factory.SubFactory(CampaignFactory)
    execution_type = Execution.Type.MANUAL
    occurrence_key = factory.Sequence(lambda n: f"manual-{n}")


class MessageFactory(factory.django.DjangoModelFactory):
    """A message row, queued by default; `sent=True` makes it one the dispatcher has sent.

    Everything hangs off `organization`: pass it, or pass `campaign` and
    `execution` together to add messages to an existing run.
    """

    class Meta:
        model = Message

    class Params:
        sent = factory.Trait(status=Message.Status.SENT, sent_at=factory.LazyFunction(timezone.now))

    organization = factory.SubFactory(OrganizationFactory)
    campaign = factory.SubFactory(CampaignFactory, organization=factory.SelfAttribute("..organization"))
    execution = factory.SubFactory(ExecutionFactory, campaign=factory.SelfAttribute("..campaign"))
    contact = factory.SubFactory(ContactFactory, organization=factory.SelfAttribute("..organization"))
    channel_type = Channel.Type.EMAIL
    channel = factory.SubFactory(
        ChannelFactory,
        campaign=factory.SelfAttribute("..campaign"),
        channel_type=factory.SelfAttribute("..channel_type"),
    )
    recipient_address = factory.LazyAttribute(
        lambda m: m.contact.phone if m.channel_type in {"sms", "whatsapp"} else m.contact.email
    )
