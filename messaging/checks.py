"""Start-up checks of the settings that links in messages are built on."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks
from django.core.exceptions import ValidationError
from django.core.validators import validate_email


@checks.register()
def check_link_settings(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """A bad public URL would put dead links in every message sent, so refuse it before any is."""
    errors = []
    parts = urlsplit(settings.SHOKTI_PUBLIC_URL)
    if parts.scheme not in {"http", "https"} or not parts.netloc or parts.query or parts.fragment:
        errors.append(
            checks.Error(
                f"SHOKTI_PUBLIC_URL is not an absolute http(s) URL: {settings.SHOKTI_PUBLIC_URL!r}.",
                hint="Set it to the address recipients reach this server at, e.g. https://go.example.com.",
                id="messaging.E001",
            )
        )
    elif parts.scheme != "https" and not settings.DEBUG:
        errors.append(
            checks.Warning(
                "SHOKTI_PUBLIC_URL is not https while DEBUG is off.",
                hint="Mail providers require https for one-click unsubscribe (RFC 8058), and links would leak.",
                id="messaging.W001",
            )
        )
    if settings.SHOKTI_UNSUBSCRIBE_MAILTO:
        try:
            validate_email(settings.SHOKTI_UNSUBSCRIBE_MAILTO)
        except ValidationError:
            errors.append(
                checks.Error(
                    f"SHOKTI_UNSUBSCRIBE_MAILTO is not an email address: {settings.SHOKTI_UNSUBSCRIBE_MAILTO!r}.",
                    id="messaging.E002",
                )
            )
    return errors
