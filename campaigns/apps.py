from django.apps import AppConfig
from django.db.backends.signals import connection_created


def _register_sqlite_functions(sender, connection, **kwargs):
    if connection.vendor == "sqlite":
        from campaigns.assignment import sqlite_bucket

        # PostgreSQL computes the same bucket with md5() in SQL (campaigns.execution).
        connection.connection.create_function("shokti_bucket", 2, sqlite_bucket, deterministic=True)


class CampaignsConfig(AppConfig):
    name = "campaigns"

    def ready(self) -> None:
        connection_created.connect(_register_sqlite_functions, dispatch_uid="shokti_sqlite_functions")

        from campaigns.events import domain_event
        from campaigns.notify import on_campaign_changed

        # Notify re-embeds a campaign whose content changed.
        domain_event.connect(on_campaign_changed, dispatch_uid="notify_reembed_campaign")
