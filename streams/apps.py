from django.apps import AppConfig


class StreamsConfig(AppConfig):
    """Seed 004's event system: the outbox of domain events, webhook subscriptions and NATS JetStream."""

    name = "streams"

    def ready(self) -> None:
        from campaigns.events import domain_event
        from messaging.signals import message_event
        from streams import outbox

        domain_event.connect(outbox.on_domain_event, dispatch_uid="streams_outbox_domain_event")
        message_event.connect(outbox.on_message_event, dispatch_uid="streams_outbox_message_event")
