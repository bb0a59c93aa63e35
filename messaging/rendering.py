"""Marketer-written content rendered in a sandbox (Liquid), never with Django's engine.

Liquid templates see only the plain data we pass (no Python attributes or
methods), and a syntax error is reported with its line and column before a
campaign can launch.
"""

from functools import lru_cache
from typing import Any

from django.utils.html import linebreaks, urlize
from liquid import Environment
from liquid.exceptions import LiquidError

from shokti.errors import ApplicationError

_html = Environment(autoescape=True)
_text = Environment(autoescape=False)


def _environment(html: bool) -> Environment:
    return _html if html else _text


@lru_cache(maxsize=512)
def _compiled(source: str, html: bool):
    # A campaign renders the same few templates for every recipient: parse each once per process.
    return _environment(html).from_string(source)


def template_errors(source: str, *, html: bool = False) -> list[str]:
    """Syntax errors of a template, empty when it parses."""
    if not source:
        return []
    try:
        _environment(html).from_string(source)
    except LiquidError as error:
        return [str(error).splitlines()[0]]
    return []


def render_template(source: str, context: dict[str, Any], *, html: bool = False) -> str:
    if not source:
        return ""
    try:
        return _compiled(source, html).render(**context)
    except LiquidError as error:
        raise ApplicationError("INVALID_REQUEST", f"Template error: {str(error).splitlines()[0]}") from error


def contact_context(contact) -> dict[str, Any]:
    """The variables a template may use about its recipient."""
    return {
        "user_id": contact.external_id,
        "external_id": contact.external_id,
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "full_name": contact.full_name,
        "email": contact.email,
        "phone": contact.phone,
        "locale": contact.locale,
        "attributes": dict(contact.attributes or {}),
    }


# Which fields of a channel are templates, and whether each renders as HTML.
CHANNEL_TEMPLATE_FIELDS: dict[str, dict[str, bool]] = {
    "email": {"email_subject": False, "email_body_html": True, "email_body_text": False},
    "sms": {"sms_body": False},
    "whatsapp": {"whatsapp_body": False},
    "in_app": {"in_app_title": False, "in_app_body": False, "in_app_action_url": False},
    "webhook": {"webhook_payload_template": False},
}


def render_channel(channel, context: dict[str, Any]) -> dict[str, str]:
    """Renders every template field of a channel for one recipient's context."""
    fields = CHANNEL_TEMPLATE_FIELDS[channel.channel_type]
    return {field: render_template(getattr(channel, field), context, html=html) for field, html in fields.items()}


def text_to_html(text: str) -> str:
    """Plain text as simple HTML: paragraphs, line breaks and clickable links, everything escaped."""
    return f"<html><body>{linebreaks(urlize(text, autoescape=True))}</body></html>"
