from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from shokti.models import ApiToken, Membership, Organization, Role


class Command(BaseCommand):
    help = "Create an API token for a user of an organization; prints the token alone on stdout."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--org", required=True, help="Organization slug; created when missing.")
        parser.add_argument("--role", choices=Role.values, default=Role.MARKETER)
        parser.add_argument("--name", default="", help="A label for the token.")

    @transaction.atomic
    def handle(self, *args, username, org, role, name, **options):
        organization, _ = Organization.objects.get_or_create(slug=org, defaults={"name": org})
        user, _ = get_user_model().objects.get_or_create(username=username)
        membership, created = Membership.objects.get_or_create(
            user=user, defaults={"organization": organization, "role": role}
        )
        if not created and membership.organization_id != organization.id:
            raise CommandError(f"User {username!r} belongs to organization {membership.organization.slug!r}.")
        if membership.role != role:
            membership.role = role
            membership.save(update_fields=["role"])
        _, raw = ApiToken.issue(membership=membership, name=name)
        self.stdout.write(raw)
