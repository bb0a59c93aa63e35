from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "analytics"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from analytics import monitoring, receivers
        from campaigns.events import batch_recorded, domain_event, execution_resolved
        from messaging.signals import message_engaged_again, message_event

        batch_recorded.connect(receivers.on_batch_recorded, dispatch_uid="analytics.batch_recorded")
        execution_resolved.connect(receivers.on_execution_resolved, dispatch_uid="analytics.execution_resolved")
        domain_event.connect(receivers.on_domain_event, dispatch_uid="analytics.domain_event")
        message_event.connect(receivers.on_message_event, dispatch_uid="analytics.message_event")
        message_engaged_again.connect(receivers.on_message_engaged_again, dispatch_uid="analytics.engaged_again")
        monitoring.register()
