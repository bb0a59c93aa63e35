"""Significance figures checked against values computed here by hand, and the auto-winner on a live campaign."""

import math
from datetime import UTC, datetime

import pytest

from analytics.aggregation import Key, counters_increment
from analytics.experiments import campaigns_declare_winners, holdout_lift, variant_significance
from analytics.models import Metric
from campaigns.events import domain_event
from campaigns.execution import execution_resolve
from campaigns.models import Campaign, Channel
from messaging.models import Message
from tests.campaigns.engine import bulk_contacts, new_execution, ready_campaign

pytestmark = pytest.mark.django_db

HOUR = datetime(2026, 1, 1, 10, tzinfo=UTC)
Z_975 = 1.959963984540054  # the standard normal's 97.5th percentile


def fill(campaign, counts: dict) -> None:
    """counts: {variant_key: {metric: n}} on the campaign's first execution."""
    execution = campaign.executions.first() or new_execution(campaign, "fill")
    counters_increment(
        (Key(campaign.organization_id, campaign.pk, execution.pk, key, "email", HOUR, metric), n)
        for key, metrics in counts.items()
        for metric, n in metrics.items()
    )


def z_test(s1, n1, s2, n2) -> tuple[float, float, float]:
    """Two-sided pooled z-test p-value and the Wald 95% interval of p1 - p2, written out."""
    p1, p2, pooled = s1 / n1, s2 / n2, (s1 + s2) / (n1 + n2)
    z = (p1 - p2) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    half = Z_975 * math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    return math.erfc(abs(z) / math.sqrt(2)), p1 - p2 - half, p1 - p2 + half


def ab_campaign(org, variants, **fields):
    fields = {"auto_winner_enabled": True, "auto_winner_metric": "open_rate", "auto_winner_min_sample": 100, **fields}
    return ready_campaign(org, variants=variants, **fields)


def test_two_arms_match_the_hand_computed_test(org):
    campaign = ab_campaign(org, [("A", 50, False), ("B", 50, False)])
    a, b = campaign.variants.order_by("id")
    fill(
        campaign, {a.pk: {Metric.DELIVERED: 400, Metric.OPENED: 80}, b.pk: {Metric.DELIVERED: 380, Metric.OPENED: 110}}
    )
    result = variant_significance(campaign)
    arm_b = next(arm for arm in result.arms if arm.variant == b)
    p_value, low, high = z_test(110, 380, 80, 400)
    assert arm_b.p_value == pytest.approx(p_value, rel=1e-9)
    assert (arm_b.ci_low, arm_b.ci_high) == (pytest.approx(low, rel=1e-9), pytest.approx(high, rel=1e-9))
    assert result.correction is None and arm_b.p_value_adjusted == arm_b.p_value
    assert result.enough_data and result.winner == b


def test_three_arms_are_holm_adjusted(org):
    campaign = ab_campaign(org, [("A", 34, False), ("B", 33, False), ("C", 33, False)])
    a, b, c = campaign.variants.order_by("id")
    fill(campaign, {a.pk: {Metric.DELIVERED: 500, Metric.OPENED: 100},
                    b.pk: {Metric.DELIVERED: 500, Metric.OPENED: 130},
                    c.pk: {Metric.DELIVERED: 500, Metric.OPENED: 160}})  # fmt: skip
    result = variant_significance(campaign)
    # Each arm against the best other: A and B against C, C against B; {B, C} is one test, so two in all.
    p_ac, p_bc = z_test(100, 500, 160, 500)[0], z_test(130, 500, 160, 500)[0]
    low, high = sorted([p_ac, p_bc])
    holm_low, holm_high = 2 * low, max(2 * low, high)
    holm = {p_ac: holm_low if p_ac == low else holm_high, p_bc: holm_low if p_bc == low else holm_high}
    raw = {a.pk: p_ac, b.pk: p_bc, c.pk: p_bc}
    assert result.correction == "holm"
    for arm in result.arms:
        assert arm.p_value == pytest.approx(raw[arm.variant.pk], rel=1e-9)
        assert arm.p_value_adjusted == pytest.approx(holm[raw[arm.variant.pk]], rel=1e-9)
    assert result.winner == c


def test_no_verdict_below_the_minimum_sample(org):
    campaign = ab_campaign(org, [("A", 50, False), ("B", 50, False)], auto_winner_min_sample=1000)
    a, b = campaign.variants.order_by("id")
    fill(
        campaign, {a.pk: {Metric.DELIVERED: 999, Metric.OPENED: 10}, b.pk: {Metric.DELIVERED: 999, Metric.OPENED: 500}}
    )
    result = variant_significance(campaign)
    assert not result.enough_data and result.winner is None
    assert campaigns_declare_winners() == []


def test_conversions_are_compared_with_the_control_arm(org):
    campaign = ab_campaign(org, [("Control", 50, True), ("B", 50, False)], auto_winner_metric="conversion_rate")
    control, b = campaign.variants.order_by("id")
    fill(campaign, {control.pk: {Metric.skipped("control"): 300, Metric.HOLDOUT_CONVERTED: 9},
                    b.pk: {Metric.DELIVERED: 300, Metric.CONVERTED: 30}})  # fmt: skip
    arm_b = next(arm for arm in variant_significance(campaign).arms if arm.variant == b)
    assert arm_b.compared_with == control.public_id
    assert arm_b.p_value == pytest.approx(z_test(30, 300, 9, 300)[0], rel=1e-9)


def test_lift_over_holdout_has_a_confidence_interval(org):
    campaign = ready_campaign(org, holdout=10)
    fill(campaign, {0: {Metric.SENT: 900, Metric.CONVERTED: 90, Metric.skipped("holdout"): 100,
                        Metric.HOLDOUT_CONVERTED: 5}})  # fmt: skip
    lift = holdout_lift(campaign)
    p_value, low, high = z_test(90, 900, 5, 100)
    assert lift.difference == pytest.approx(0.05)
    assert lift.lift == pytest.approx(1.0)
    assert (lift.ci_low, lift.ci_high) == (pytest.approx(low, rel=1e-9), pytest.approx(high, rel=1e-9))
    assert lift.p_value == pytest.approx(p_value, rel=1e-9)


def test_the_auto_winner_takes_a_live_campaigns_remaining_sends(org):
    bulk_contacts(org, 40)
    campaign = ab_campaign(
        org, [("A", 50, False), ("B", 50, False)],
        channels=[{"channel_type": "email", "email_subject": "shared", "email_body_text": "x"}],
    )  # fmt: skip
    a, b = campaign.variants.order_by("id")
    b_email = Channel.objects.create(campaign=campaign, variant=b, channel_type="email", email_subject="B wins")
    Campaign.objects.filter(pk=campaign.pk).update(status="running")
    execution = new_execution(campaign, "live")
    execution_resolve(execution)
    assert Message.objects.filter(execution=execution, variant=a, status="queued").exists()
    fill(campaign, {a.pk: {Metric.DELIVERED: 200, Metric.OPENED: 20}, b.pk: {Metric.DELIVERED: 200, Metric.OPENED: 80}})
    events = []

    def listen(sender, event_type, campaign, payload, **kwargs):
        events.append((event_type, payload))

    domain_event.connect(listen)
    try:
        assert campaigns_declare_winners() == [campaign.public_id]
    finally:
        domain_event.disconnect(listen)
    campaign.refresh_from_db()
    assert campaign.winner_variant == b
    waiting = Message.objects.filter(execution=execution, status="queued")
    assert set(waiting.values_list("variant_id", "channel_id")) == {(b.pk, b_email.pk)}
    assert events[0][0] == "campaign.metric.updated"
    assert events[0][1]["winner_variant_id"] == b.public_id and events[0][1]["metric_type"] == "open_rate"
    # The next run of the campaign resolves everyone to the winner.
    later = new_execution(campaign, "next")
    execution_resolve(later)
    assert set(Message.objects.filter(execution=later).values_list("variant_id", flat=True)) == {b.pk}
    assert campaigns_declare_winners() == []
