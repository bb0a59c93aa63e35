from django.core.management.base import BaseCommand, CommandError

from analytics.aggregation import counters_rebuild
from campaigns.models import Campaign


class Command(BaseCommand):
    help = "Recomputes the analytics counters from message rows and stored conversions (all campaigns, or some)."

    def add_arguments(self, parser):
        parser.add_argument("--campaign", action="append", default=[], help="A campaign's public id (repeatable).")

    def handle(self, *args, campaign: list[str], **options):
        ids = None
        if campaign:
            ids = list(Campaign.objects.filter(public_id__in=campaign).values_list("pk", flat=True))
            if len(ids) != len(set(campaign)):
                raise CommandError("Unknown campaign id among: " + ", ".join(campaign))
        rows = counters_rebuild(campaign_ids=ids)
        self.stdout.write(f"Rebuilt {rows} counter rows.")
