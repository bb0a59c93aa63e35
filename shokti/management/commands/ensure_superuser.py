import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from shokti.models import Membership, Organization, Role


class Command(BaseCommand):
    help = (
        "Create the console superuser once. The password comes from DJANGO_SUPERUSER_PASSWORD, "
        "else a random one is printed (only when the user is created)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default=os.environ.get("DJANGO_SUPERUSER_USERNAME", "admin"))
        parser.add_argument("--org", default="demo", help="Organization the superuser works in.")

    @transaction.atomic
    def handle(self, *args, username, org, **options):
        User = get_user_model()
        if User.objects.filter(username=username).exists():
            self.stdout.write(f"Superuser {username!r} exists; its password is unchanged.")
            return
        password = os.environ.get("DJANGO_SUPERUSER_PASSWORD") or secrets.token_urlsafe(12)
        user = User.objects.create_superuser(username=username, email=f"{username}@example.com", password=password)
        organization, _ = Organization.objects.get_or_create(slug=org, defaults={"name": org})
        Membership.objects.create(user=user, organization=organization, role=Role.ADMIN)
        if os.environ.get("DJANGO_SUPERUSER_PASSWORD"):
            self.stdout.write(f"Created superuser {username!r} with the password from DJANGO_SUPERUSER_PASSWORD.")
        else:
            self.stdout.write(f"Created superuser {username!r} with password: {password}  (shown once)")
