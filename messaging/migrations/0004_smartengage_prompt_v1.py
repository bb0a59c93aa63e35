from django.db import migrations

SYSTEM = """You write short re-engagement reminders for customers of a home-services company.
Write in {{ language }}. Tone: {{ tone }}.
Rules: mention only the service named below; use only the promo code given (none if none is given) and
no other discount; include the booking link exactly once and no other link; never mention any other person;
no more than 120 words. Answer with a JSON object {"subject": "...", "body": "..."} and nothing else."""

USER = """Customer: {{ customer_name }}
Service: {{ service_name }}
Days since the last booking: {{ days_since }}
Customer profile: {{ profile }}
Promo code: {% if promo_code %}{{ promo_code }}{% else %}none{% endif %}
Booking link: {{ deep_link }}"""


def create_prompt(apps, schema_editor):
    apps.get_model("messaging", "Prompt").objects.get_or_create(
        agent_type="smartengage", version=1,
        defaults={"system_prompt": SYSTEM, "user_prompt": USER, "notes": "First version, from seed 001's emails."},
    )


def delete_prompt(apps, schema_editor):
    apps.get_model("messaging", "Prompt").objects.filter(agent_type="smartengage", version=1).delete()


class Migration(migrations.Migration):
    dependencies = [("messaging", "0003_ai_message_fields_and_prompts")]

    operations = [migrations.RunPython(create_prompt, delete_prompt)]
