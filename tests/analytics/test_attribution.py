"""Attribution by first touch, last touch and linear, on hand-computed cases."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from analytics.attribution import attribution_weights, conversions_attribute_new_events, conversions_record_for_events
from analytics.models import AttributionCursor, Conversion, Counter, Metric
from audiences.models import Event
from tests.factories import CampaignFactory, ContactFactory, ExecutionFactory, MessageFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)


@pytest.fixture
def contact(org):
    return ContactFactory(organization=org)


def campaign_with_touches(org, contact, model, days_ago=(10, 3, 2, 1)):
    campaign = CampaignFactory(organization=org, conversion_event_type="purchase", attribution_model=model,
                               attribution_window_days=7)  # fmt: skip
    messages = [
        MessageFactory(organization=org, campaign=campaign, execution=ExecutionFactory(campaign=campaign),
                       contact=contact, sent=True, sent_at=NOW - timedelta(days=days))
        for days in days_ago
    ]  # fmt: skip
    return campaign, messages


def purchase(org, contact, event_id="evt-1", value="90", at=NOW):
    return Event.objects.create(organization=org, event_id=event_id, event_type="purchase", user_id=contact.external_id,
                                contact=contact, occurred_at=at, properties={"value": value})  # fmt: skip


def credits(campaign) -> list[tuple]:
    return list(Conversion.objects.filter(campaign=campaign).order_by("message__sent_at").values_list(
        "message_id", "weight", "value"))  # fmt: skip


def test_first_touch_credits_the_earliest_message_in_the_window(org, contact):
    campaign, messages = campaign_with_touches(org, contact, "first_touch")
    conversions_record_for_events([purchase(org, contact)])
    # The message 10 days back is outside the 7-day window.
    assert credits(campaign) == [(messages[1].pk, Decimal("1.000000"), Decimal("90.00"))]


def test_last_touch_credits_the_latest_message(org, contact):
    campaign, messages = campaign_with_touches(org, contact, "last_touch")
    conversions_record_for_events([purchase(org, contact)])
    assert credits(campaign) == [(messages[3].pk, Decimal("1.000000"), Decimal("90.00"))]


def test_linear_splits_the_credit_and_the_value_so_that_both_add_up(org, contact):
    campaign, messages = campaign_with_touches(org, contact, "linear")
    conversions_record_for_events([purchase(org, contact)])
    assert credits(campaign) == [
        (messages[1].pk, Decimal("0.333333"), Decimal("29.99")),
        (messages[2].pk, Decimal("0.333333"), Decimal("29.99")),
        (messages[3].pk, Decimal("0.333334"), Decimal("30.02")),
    ]
    converted = Counter.objects.filter(campaign=campaign, metric=Metric.CONVERTED)
    assert sum(c.count for c in converted) == 1
    assert sum(c.count for c in Counter.objects.filter(campaign=campaign, metric=Metric.CONVERSION_VALUE)) == 90


def test_weights_always_sum_to_one():
    for count in range(1, 12):
        assert sum(attribution_weights(count, "linear")) == 1
        assert sum(attribution_weights(count, "first_touch")) == 1


def test_one_event_is_never_counted_twice(org, contact):
    campaign, _ = campaign_with_touches(org, contact, "last_touch")
    event = purchase(org, contact)
    conversions_record_for_events([event])
    conversions_record_for_events([event, event])
    assert Conversion.objects.filter(campaign=campaign).count() == 1
    assert Counter.objects.get(campaign=campaign, metric=Metric.CONVERTED).count == 1


def test_an_event_before_any_message_converts_nothing(org, contact):
    campaign, _ = campaign_with_touches(org, contact, "last_touch", days_ago=(-1,))
    conversions_record_for_events([purchase(org, contact)])
    assert not Conversion.objects.filter(campaign=campaign).exists()


def test_holdout_conversions_are_counted_apart(org, contact):
    campaign = CampaignFactory(organization=org, conversion_event_type="purchase")
    MessageFactory(organization=org, campaign=campaign, execution=ExecutionFactory(campaign=campaign), contact=contact,
                   status="skipped", skip_reason="holdout", is_holdout=True)  # fmt: skip
    conversions_record_for_events([purchase(org, contact, at=timezone.now() + timedelta(minutes=1))])
    conversion = Conversion.objects.get(campaign=campaign)
    assert conversion.is_holdout and conversion.variant_key == 0
    assert not Counter.objects.filter(campaign=campaign, metric=Metric.CONVERTED).exists()
    assert Counter.objects.get(campaign=campaign, metric=Metric.HOLDOUT_CONVERTED).count == 1


def test_the_periodic_task_reads_each_event_once(org, contact):
    campaign, _ = campaign_with_touches(org, contact, "last_touch")
    event = purchase(org, contact)
    Event.objects.filter(pk=event.pk).update(received_at=timezone.now() - timedelta(minutes=1))
    assert conversions_attribute_new_events() == 1
    assert conversions_attribute_new_events() == 0
    assert AttributionCursor.objects.get().last_event_pk == event.pk
    assert Conversion.objects.filter(campaign=campaign).count() == 1
