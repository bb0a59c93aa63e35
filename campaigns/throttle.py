"""Per-campaign send throttles (per minute, per hour) that hold across every worker.

The count of each window is a database row taken under a row lock, so two
workers can never both spend the last slots of a window.
"""

from datetime import datetime, timedelta

from django.db import transaction

from campaigns.models import Campaign, ThrottleWindow


def _windows(campaign: Campaign, now: datetime) -> list[tuple[str, int, datetime, timedelta]]:
    windows = []
    if campaign.throttle_per_minute:
        windows.append(
            ("minute", campaign.throttle_per_minute, now.replace(second=0, microsecond=0), timedelta(minutes=1))
        )
    if campaign.throttle_per_hour:
        windows.append(
            ("hour", campaign.throttle_per_hour, now.replace(minute=0, second=0, microsecond=0), timedelta(hours=1))
        )
    return windows


@transaction.atomic
def throttle_acquire(campaign: Campaign, wanted: int, now: datetime) -> tuple[int, float]:
    """Takes up to `wanted` sends; returns (granted, seconds until more can be taken when granted is 0)."""
    windows = _windows(campaign, now)
    if not windows:
        return wanted, 0.0
    rows = []
    for kind, limit, start, length in windows:
        ThrottleWindow.objects.get_or_create(campaign=campaign, kind=kind, window_start=start)
        row = ThrottleWindow.objects.select_for_update().get(campaign=campaign, kind=kind, window_start=start)
        rows.append((row, limit, start + length))
    granted = min([wanted, *(max(limit - row.used, 0) for row, limit, _ in rows)])
    if granted == 0:
        reopen = min(end for row, limit, end in rows if row.used >= limit)
        return 0, max((reopen - now).total_seconds(), 0.5)
    for row, _, _ in rows:
        row.used += granted
        row.save(update_fields=["used"])
    return granted, 0.0


def throttle_release(campaign: Campaign, unused: int, now: datetime) -> None:
    """Gives back slots taken for rows that were not there to claim."""
    if unused <= 0:
        return
    from django.db.models import F

    for kind, _, start, _ in _windows(campaign, now):
        ThrottleWindow.objects.filter(campaign=campaign, kind=kind, window_start=start, used__gte=unused).update(
            used=F("used") - unused
        )
