from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"

    def ready(self) -> None:
        from messaging import (
            checks,  # noqa: F401  (registers the link settings' system checks)
            metrics,
        )

        metrics.register()
