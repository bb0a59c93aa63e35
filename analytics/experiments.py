"""A/B significance, lift over holdout, and the auto-winner.

Each arm is compared on the campaign's auto-winner metric with statsmodels'
two-proportion z-test and a Wald interval of the difference: against the
control arm when there is one and the metric can be measured on it (only
conversions: a control contact gets no message to open), else against the best
other arm. With more than one comparison the p-values are Holm-adjusted. No
verdict is given while any arm has fewer than `auto_winner_min_sample` trials.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from analytics.aggregation import ZERO, counter_sums
from analytics.models import Metric
from campaigns.events import emit
from campaigns.models import Campaign, CampaignStatus, Variant, WinnerMetric
from messaging.models import Message, MessageStatus, SkipReason

# The metric's numerator over delivered messages; a control arm's trials are its measured (skipped) contacts.
NUMERATOR = {
    WinnerMetric.OPEN_RATE: Metric.OPENED,
    WinnerMetric.CLICK_RATE: Metric.CLICKED,
    WinnerMetric.CONVERSION_RATE: Metric.CONVERTED,
}


@dataclass
class Arm:
    variant: Variant
    successes: int
    trials: int
    rate: float = 0.0
    compared_with: str | None = None
    p_value: float | None = None
    p_value_adjusted: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    significant: bool = False

    def __post_init__(self):
        self.rate = self.successes / self.trials if self.trials else 0.0


@dataclass
class Significance:
    metric: str
    confidence: float
    min_sample: int
    arms: list[Arm] = field(default_factory=list)
    enough_data: bool = False
    winner: Variant | None = None
    correction: str | None = None


def _arms(campaign: Campaign, metric: str) -> list[Arm]:
    sums = counter_sums(campaign, by=("variant_key",))
    arms = []
    for variant in campaign.variants.all():
        totals = sums.get((variant.pk,), {})
        if variant.is_control:
            successes = totals.get(Metric.HOLDOUT_CONVERTED, ZERO) if metric == WinnerMetric.CONVERSION_RATE else ZERO
            trials = totals.get(Metric.skipped(SkipReason.CONTROL), ZERO)
        else:
            successes = totals.get(NUMERATOR[metric], ZERO)
            trials = totals.get(Metric.DELIVERED, ZERO)
        # Linear attribution can credit fractions; the test needs whole conversions.
        arms.append(Arm(variant=variant, successes=round(successes), trials=int(trials)))
    return arms


def _compare(arm: Arm, other: Arm) -> None:
    arm.compared_with = other.variant.public_id
    if not (arm.trials and other.trials):
        return
    if arm.successes + other.successes in (0, arm.trials + other.trials):
        # No variance at all: the z statistic is undefined and nothing can be concluded.
        arm.p_value, arm.ci_low, arm.ci_high = 1.0, 0.0, 0.0
        return
    _, p_value = proportions_ztest([arm.successes, other.successes], [arm.trials, other.trials])
    arm.p_value = float(p_value)


def variant_significance(campaign: Campaign, *, metric: str | None = None) -> Significance:
    """Per variant: rate, p-value (raw and Holm-adjusted), CI of the difference, and the winner if any."""
    metric = metric or campaign.auto_winner_metric or WinnerMetric.CONVERSION_RATE
    confidence = float(campaign.auto_winner_confidence)
    result = Significance(metric=metric, confidence=confidence, min_sample=campaign.auto_winner_min_sample)
    arms = _arms(campaign, metric)
    result.arms = arms
    if len(arms) < 2:
        return result
    control = next((a for a in arms if a.variant.is_control), None)
    use_control = control is not None and metric == WinnerMetric.CONVERSION_RATE
    candidates = [a for a in arms if not a.variant.is_control]
    compared = []
    for arm in candidates:
        if use_control:
            other = control
        else:
            others = [a for a in candidates if a is not arm]
            if not others:
                continue
            other = max(others, key=lambda a: a.rate)
        _compare(arm, other)
        if arm.p_value is not None:
            if arm.ci_low is None:
                low, high = confint_proportions_2indep(
                    arm.successes, arm.trials, other.successes, other.trials, compare="diff", method="wald",
                    alpha=1 - confidence,
                )  # fmt: skip
                arm.ci_low, arm.ci_high = float(low), float(high)
            compared.append((arm, other))
    # Two arms each compared with the other are one test, not two: correct over distinct pairs.
    pairs: dict[frozenset, float] = {}
    for arm, other in compared:
        pairs.setdefault(frozenset((arm.variant.pk, other.variant.pk)), arm.p_value)
    adjusted = dict(zip(pairs, pairs.values(), strict=True))
    if len(pairs) > 1:
        result.correction = "holm"
        corrected = multipletests(list(pairs.values()), alpha=1 - confidence, method="holm")[1]
        adjusted = dict(zip(pairs, map(float, corrected), strict=True))
    for arm, other in compared:
        arm.p_value_adjusted = adjusted[frozenset((arm.variant.pk, other.variant.pk))]
    result.enough_data = all(a.trials >= campaign.auto_winner_min_sample for a in arms)
    if not result.enough_data:
        return result
    for arm, other in compared:
        arm.significant = arm.p_value_adjusted < 1 - confidence and arm.rate > other.rate
    winners = [a for a, _ in compared if a.significant]
    if winners:
        result.winner = max(winners, key=lambda a: a.rate).variant
    return result


@dataclass
class Lift:
    treated_rate: float
    holdout_rate: float
    treated: int
    holdout: int
    lift: float | None  # relative: treated / holdout - 1
    difference: float
    ci_low: float | None
    ci_high: float | None
    p_value: float | None


def holdout_lift(campaign: Campaign, *, totals: dict | None = None, confidence: float = 0.95) -> Lift | None:
    """Conversion rate of messaged contacts over held-out ones, with a CI of the difference; None without holdout."""
    totals = totals if totals is not None else counter_sums(campaign).get((), {})
    holdout = int(totals.get(Metric.skipped(SkipReason.HOLDOUT), ZERO))
    treated = int(totals.get(Metric.SENT, ZERO))
    if not holdout or not treated:
        return None
    converted_held = round(_holdout_conversions(campaign))
    converted = round(totals.get(Metric.CONVERTED, ZERO))
    p_t, p_h = converted / treated, converted_held / holdout
    ci_low = ci_high = p_value = None
    if 0 < converted + converted_held < treated + holdout:
        low, high = confint_proportions_2indep(
            converted, treated, converted_held, holdout, compare="diff", method="wald", alpha=1 - confidence
        )
        ci_low, ci_high = float(low), float(high)
        p_value = float(proportions_ztest([converted, converted_held], [treated, holdout])[1])
    return Lift(treated_rate=p_t, holdout_rate=p_h, treated=treated, holdout=holdout,
                lift=(p_t / p_h - 1) if p_h else None, difference=p_t - p_h, ci_low=ci_low, ci_high=ci_high,
                p_value=p_value)  # fmt: skip


def _holdout_conversions(campaign: Campaign) -> Decimal:
    # Holdout rows' conversions carry variant 0; a control arm's are under its own variant.
    return counter_sums(campaign, by=("variant_key",)).get((0,), {}).get(Metric.HOLDOUT_CONVERTED, ZERO)


# --- auto-winner ------------------------------------------------------------------------------------------

OPEN_STATUSES = [CampaignStatus.SCHEDULED, CampaignStatus.ACTIVE, CampaignStatus.RUNNING, CampaignStatus.PAUSED]


def campaign_declare_winner(campaign: Campaign) -> Variant | None:
    """Declares the winner when the significance allows; the campaign's remaining sends go to it.

    Rows still waiting (queued or deferred) move to the winner and its content
    on the same channel type; later executions resolve everyone to it.
    """
    verdict = variant_significance(campaign)
    if verdict.winner is None:
        return None
    winner = verdict.winner
    with transaction.atomic():
        claimed = Campaign.objects.filter(pk=campaign.pk, winner_variant__isnull=True).update(winner_variant=winner)
        if not claimed:
            return None
        campaign.winner_variant = winner
        _move_waiting_rows(campaign, winner)
        arm = next(a for a in verdict.arms if a.variant == winner)
        emit("campaign.metric.updated", campaign, metric_type=verdict.metric, count=arm.successes,
             rate=round(arm.rate, 6), winner_variant_id=winner.public_id,
             p_value=arm.p_value_adjusted)  # fmt: skip
    return winner


def _move_waiting_rows(campaign: Campaign, winner: Variant) -> None:
    waiting = Message.objects.filter(
        campaign=campaign, status__in=[MessageStatus.QUEUED, MessageStatus.DEFERRED]
    ).exclude(variant=winner)
    channels = [c for c in campaign.channels.all() if c.enabled]
    for channel_type in waiting.values_list("channel_type", flat=True).distinct().order_by():
        own = [c for c in channels if c.variant_id == winner.pk and c.channel_type == channel_type]
        shared = [c for c in channels if c.variant_id is None and c.channel_type == channel_type]
        target = sorted(own or shared, key=lambda c: (c.priority, c.pk))
        if target:
            waiting.filter(channel_type=channel_type).update(variant=winner, channel=target[0])


def campaigns_declare_winners() -> list[str]:
    """For every open campaign with auto-winner on and no winner yet: declare one if the data allows."""
    declared = []
    candidates = (
        Campaign.objects.alive()
        .filter(auto_winner_enabled=True, winner_variant__isnull=True, status__in=OPEN_STATUSES)
        .select_related("organization")
    )
    for campaign in candidates.prefetch_related("variants", "channels"):
        if campaign_declare_winner(campaign) is not None:
            declared.append(campaign.public_id)
    return declared
