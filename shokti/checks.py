"""Start-up checks: a production server refuses to start with unsafe settings."""

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured


@checks.register(checks.Tags.security)
def check_production_secrets(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    if settings.DEBUG:
        return []
    errors = []
    if settings.SECRET_KEY == settings.INSECURE_DEFAULT_SECRET_KEY:
        errors.append(
            checks.Error(
                "SECRET_KEY is the built-in development key while DEBUG is off.",
                hint="Set SECRET_KEY to a long random value (or DEBUG=1 for development).",
                id="shokti.E001",
            )
        )
    if not settings.SHOKTI_INTERNAL_TOKEN:
        errors.append(
            checks.Error(
                "SHOKTI_INTERNAL_TOKEN is empty while DEBUG is off: /internal/ would be unprotected.",
                hint="Set SHOKTI_INTERNAL_TOKEN to a long random value (or DEBUG=1 for development).",
                id="shokti.E002",
            )
        )
    return errors


def refuse_unsafe_start() -> None:
    """Called by the WSGI/ASGI entry points and Celery, which do not run system checks."""
    errors = check_production_secrets()
    if errors:
        raise ImproperlyConfigured("Refusing to start: " + " ".join(error.msg for error in errors))
