"""The safety filter every generated text passes before anything is sent.

Checks, each named in `safety_checks`: no promo code or discount other than
the one given, no link other than the deep link, no other customer's data
(email addresses, phone numbers, other recipients' names), the length limits
of the channel, the script of the customer's language, a blocklist, and the
moderation endpoint's verdict when it was asked. A text that fails any check
is replaced by the approved template (campaigns.smartengage) and the reasons
are stored on the message.
"""

import re
from dataclasses import dataclass, field

from django.conf import settings

# Per channel: (subject limit, body limit) in characters.
LENGTH_LIMITS = {"email": (150, 2000), "sms": (0, 480), "whatsapp": (0, 1000), "in_app": (120, 500)}

_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"')\]]+", re.IGNORECASE)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<![\w/=])\+?[0-9\u09e6-\u09ef][0-9\u09e6-\u09ef ()-]{8,}[0-9\u09e6-\u09ef](?![\w])")
# Codes look like COMEBACK15 or VIP20: capitals followed by a number.
_CODE = re.compile(r"\b[A-Z][A-Z0-9]{2,}[0-9]+\b")
_PERCENT = re.compile(r"([0-9\u09e6-\u09ef]{1,3})\s*(?:%|\uff05|শতাংশ|percent)", re.IGNORECASE)
_BENGALI_LETTER = re.compile(r"[\u0980-\u09FF]")
_LATIN_LETTER = re.compile(r"[A-Za-z]")
_TO_ASCII_DIGITS = str.maketrans("০১২৩৪৫৬৭৮৯", "0123456789")
BRAND = "Shokti"


@dataclass(frozen=True)
class SafetyContext:
    """What a message may contain: its own customer, promo and link."""

    locale: str
    channel: str
    deep_link: str
    promo_code: str | None = None
    customer_email: str = ""
    customer_name: str = ""
    other_customers: frozenset[str] = field(default_factory=frozenset)  # names and emails of the batch's others


def check(subject: str, text: str, context: SafetyContext, *, flagged: bool | None = None) -> list[str]:
    """The reasons the text is unsafe; empty when it passes every check."""
    reasons: list[str] = []
    whole = f"{subject}\n{text}"
    reasons += _promo(whole, context)
    reasons += _links(whole, context)
    reasons += _other_customers(whole, context)
    reasons += _length(subject, text, context)
    reasons += _script(whole, context)
    reasons += _blocklist(whole)
    if flagged:
        reasons.append("moderation: flagged by the moderation endpoint")
    return reasons


def record(reasons: list[str], *, moderated: bool, fallback: bool, error: str = "") -> dict:
    """The `safety_checks` value stored on the message."""
    checks = ["promo", "links", "customer_data", "length", "script", "blocklist"] + (
        ["moderation"] if moderated else []
    )
    value = {"safe": not reasons, "checks": checks, "reasons": reasons, "fallback": fallback}
    if error:
        value["generation_error"] = error
    return value


def _promo(text: str, context: SafetyContext) -> list[str]:
    allowed = (context.promo_code or "").upper()
    reasons = [f"promo: unexpected code {code}" for code in sorted(set(_CODE.findall(text))) if code != allowed]
    allowed_digits = re.findall(r"\d+", allowed)
    for number in {match.translate(_TO_ASCII_DIGITS) for match in _PERCENT.findall(text)}:
        if str(int(number)) not in allowed_digits:
            reasons.append(f"promo: discount {number}% not given")
    return reasons


def _links(text: str, context: SafetyContext) -> list[str]:
    return [
        f"links: unexpected link {url[:80]}" for url in _URL.findall(text) if url.rstrip(".,!?") != context.deep_link
    ]


def _other_customers(text: str, context: SafetyContext) -> list[str]:
    without_links = _URL.sub(" ", text)
    reasons = [
        f"customer_data: foreign email {email}"
        for email in _EMAIL.findall(without_links)
        if email.lower() != context.customer_email.lower()
    ]
    if _PHONE.search(without_links):
        reasons.append("customer_data: a phone number")
    lowered = without_links.lower()
    reasons += [
        f"customer_data: another customer ({other})"
        for other in sorted(context.other_customers)
        if len(other) >= 4 and other.lower() != context.customer_name.lower() and other.lower() in lowered
    ]
    return reasons


def _length(subject: str, text: str, context: SafetyContext) -> list[str]:
    subject_limit, body_limit = LENGTH_LIMITS.get(context.channel, (150, 2000))
    reasons = []
    if len(text) > body_limit:
        reasons.append(f"length: body of {len(text)} characters exceeds {body_limit} for {context.channel}")
    if subject_limit and len(subject) > subject_limit:
        reasons.append(f"length: subject of {len(subject)} characters exceeds {subject_limit}")
    return reasons


def _script(text: str, context: SafetyContext) -> list[str]:
    # Names, codes, the link and the brand are Latin whatever the language: measure the rest.
    rest = _URL.sub(" ", text)
    for allowed in (context.customer_name, context.promo_code or "", context.customer_email, BRAND):
        if allowed:
            rest = rest.replace(allowed, " ")
    bengali, latin = len(_BENGALI_LETTER.findall(rest)), len(_LATIN_LETTER.findall(rest))
    letters = bengali + latin
    if not letters:
        return ["script: no words"]
    if context.locale.lower().startswith("en"):
        return [] if bengali / letters <= 0.1 else ["script: expected English (Latin script)"]
    return [] if bengali / letters >= 0.8 else ["script: expected Bengali (Bangla script)"]


def _blocklist(text: str) -> list[str]:
    lowered = text.lower()
    return [f"blocklist: {word}" for word in settings.SMARTENGAGE_BLOCKLIST if word.lower() in lowered]
