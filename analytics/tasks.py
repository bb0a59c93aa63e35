"""Periodic analytics tasks: thin wrappers over the services, with expiries so a backlog cannot pile up."""

from celery import shared_task

from analytics.attribution import conversions_attribute_new_events
from analytics.experiments import campaigns_declare_winners


@shared_task(expires=55)
def attribute_new_events() -> int:
    """Every minute: credits conversion events stored since the last run to their campaigns."""
    return conversions_attribute_new_events()


@shared_task(expires=55)
def declare_winners() -> list[str]:
    """Every minute: declares A/B winners where the data has become significant."""
    return campaigns_declare_winners()
