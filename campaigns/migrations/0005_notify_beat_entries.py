from django.db import migrations

EMBEDDINGS = "shokti: recompute Notify embeddings"
STATUSES = "shokti: update Notify notification statuses"


def create_entries(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    hourly, _ = IntervalSchedule.objects.get_or_create(every=3600, period="seconds")
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=60, period="seconds")
    PeriodicTask.objects.update_or_create(
        name=EMBEDDINGS,
        defaults={"task": "campaigns.tasks.refresh_embeddings", "interval": hourly, "enabled": True,
                  "description": "Re-embeds changed campaigns and recomputes contacts' vectors in batches."},
    )  # fmt: skip
    PeriodicTask.objects.update_or_create(
        name=STATUSES,
        defaults={"task": "campaigns.tasks.refresh_notification_statuses", "interval": every_minute, "enabled": True,
                  "description": "Fired Notify slots take the status of their message: sent, failed or clicked."},
    )  # fmt: skip


def delete_entries(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=[EMBEDDINGS, STATUSES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0004_notify_fields_and_schedules"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_entries, delete_entries)]
