from django.db import migrations

ENTRIES = {
    "shokti: attribute new conversion events": (
        "analytics.tasks.attribute_new_events",
        "Credits conversion events stored since the last run to the campaigns whose messages preceded them.",
    ),
    "shokti: declare A/B winners": (
        "analytics.tasks.declare_winners",
        "Declares the winning variant of auto-winner campaigns once the difference is significant.",
    ),
}


def create_entries(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=60, period="seconds")
    for name, (task, description) in ENTRIES.items():
        PeriodicTask.objects.update_or_create(
            name=name,
            defaults={"task": task, "interval": every_minute, "enabled": True, "description": description},
        )


def delete_entries(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=ENTRIES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_entries, delete_entries)]
