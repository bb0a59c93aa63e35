from django.core.management.base import BaseCommand
from django.db import transaction

from audiences.demo import load_demo_audience
from campaigns.demo import load_demo_campaigns
from shokti.models import Organization


class Command(BaseCommand):
    help = "Load the demo organization and its data (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options):
        organization, _ = Organization.objects.update_or_create(
            slug="demo", defaults={"name": "Demo Home Services", "timezone": "Asia/Dhaka"}
        )
        audience = load_demo_audience(organization)
        campaigns = load_demo_campaigns(organization)
        self.stdout.write(
            f"Demo organization '{organization.slug}': {audience['services']} services, "
            f"{audience['customers']} customers, {campaigns} new campaigns."
        )
