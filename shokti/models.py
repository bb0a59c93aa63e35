import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone


class Organization(models.Model):
    """A tenant: every contact, campaign and token belongs to exactly one."""

    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=255)
    timezone = models.CharField(max_length=64, default="UTC", help_text="IANA timezone for contacts that have none.")
    frequency_cap_messages = models.PositiveIntegerField(
        null=True, blank=True, help_text="At most this many messages per contact per window, across campaigns."
    )
    frequency_cap_hours = models.PositiveIntegerField(default=24)
    quiet_hours_start = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Hour (0-23, contact's local time) from which nothing is sent."
    )
    quiet_hours_end = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Hour (0-23) sending resumes.")
    events_create_contacts = models.BooleanField(
        default=False,
        help_text="An event whose user_id is no contact creates one; when off, the event is rejected in its answer.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    MARKETER = "marketer", "Marketer"
    ANALYST = "analyst", "Analyst (read only)"


class Membership(models.Model):
    """Ties a user to the one organization they work in, with a role."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MARKETER)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization.slug} ({self.role})"

    @property
    def can_write(self) -> bool:
        return self.role in {Role.ADMIN, Role.MARKETER}


class ApiTokenQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)


class ApiToken(models.Model):
    """A Bearer token. Only its SHA-256 digest is stored; the token is shown once."""

    PREFIX = "shk_"

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    key_prefix = models.CharField(max_length=12, help_text="The first characters, to tell tokens apart.")
    key_digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.key_prefix}… ({self.membership})"

    @staticmethod
    def digest(raw_token: str) -> str:
        # Tokens carry 256 random bits, so a fast hash is enough: nothing to brute-force.
        return hashlib.sha256(raw_token.encode()).hexdigest()

    @classmethod
    def issue(cls, *, membership: Membership, name: str = "") -> tuple["ApiToken", str]:
        raw = cls.PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(membership=membership, name=name, key_prefix=raw[:12], key_digest=cls.digest(raw))
        return token, raw

    def revoke(self) -> None:
        self.revoked_at = timezone.now()
        self.save(update_fields=["revoked_at"])

    @property
    def organization(self) -> Organization:
        return self.membership.organization

    @property
    def role(self) -> str:
        return self.membership.role
