from django.db import migrations

NAME = "smartengage: daily re-engagement run"


def create_entry(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    nine_utc, _ = CrontabSchedule.objects.get_or_create(
        minute="0", hour="9", day_of_week="*", day_of_month="*", month_of_year="*", timezone="UTC"
    )
    # Editable in the admin afterwards; a re-run of the migration leaves an operator's changes alone.
    PeriodicTask.objects.get_or_create(
        name=NAME,
        defaults={"task": "campaigns.tasks.smartengage_daily_run", "crontab": nine_utc, "enabled": True,
                  "expires": None, "kwargs": '{"preset": "default"}',
                  "description": "Seed 001's 09:00 UTC run; one worker at a time (advisory lock or lease row)."},
    )


def delete_entry(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0004_smartengage_content_source_runs_leases"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_entry, delete_entry)]
