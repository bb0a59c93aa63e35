from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from streams import inbound, nats


class Command(BaseCommand):
    help = "Consumes user.created, user.deleted, user.preferences.updated and notification.* from NATS JetStream."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Stop when no message is waiting.")

    def handle(self, *args, once: bool = False, **options):
        if not nats.configured():
            raise CommandError("NATS_URL is not set.")
        self.stdout.write(f"Consuming {', '.join(nats.SUBSCRIBED_SUBJECTS)} from {settings.NATS_URL}")
        handled = nats.consume(inbound.handle, once=once)
        self.stdout.write(f"Handled {handled} messages")
