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


_ABOVE_ZERO = ("SHOKTI_HTTP_TIMEOUT_SECONDS", "SHOKTI_HTTP_BACKOFF_MAX_SECONDS")
_AT_LEAST_ONE = ("SHOKTI_HTTP_MAX_ATTEMPTS", "SHOKTI_WEBHOOK_CONCURRENCY", "SMS_MAX_SEGMENTS")


@checks.register()
def check_outbound_settings(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Numbers out of range, and a provider with a URL but no key or the reverse (likely a typo)."""
    out_of_range = [(name, "above 0") for name in _ABOVE_ZERO if getattr(settings, name) <= 0]
    out_of_range += [(name, "at least 1") for name in _AT_LEAST_ONE if getattr(settings, name) < 1]
    messages: list[checks.CheckMessage] = [
        checks.Error(f"{name} is {getattr(settings, name)}; it must be {bound}.", id="shokti.E003")
        for name, bound in out_of_range
    ]
    for provider in ("SMS", "WHATSAPP"):
        url, key = getattr(settings, f"{provider}_PROVIDER_URL"), getattr(settings, f"{provider}_PROVIDER_API_KEY")
        if bool(url) != bool(key):
            missing = f"{provider}_PROVIDER_API_KEY" if url else f"{provider}_PROVIDER_URL"
            messages.append(
                checks.Warning(
                    f"{missing} is empty while the other {provider} provider setting is set.",
                    hint=f"Every {provider} message fails as 'provider not configured' until both are set.",
                    id="shokti.W001",
                )
            )
    return messages


def refuse_unsafe_start() -> None:
    """Called by the WSGI/ASGI entry points and Celery, which do not run system checks."""
    errors = check_production_secrets()
    if errors:
        raise ImproperlyConfigured("Refusing to start: " + " ".join(error.msg for error in errors))
