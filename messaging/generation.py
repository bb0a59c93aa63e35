"""Generators: the text of a message written by a model, or by the offline generator from approved templates.

This is the only module that imports `openai`. The `ai` generator calls the
chat completions API of any OpenAI-compatible server (`OPENAI_BASE_URL`,
`OPENAI_MODEL`), overlapping up to `OPENAI_CONCURRENCY` requests of a batch on
one event loop. Retries on 429 and 5xx, with exponential backoff that honours
Retry-After, and timeouts are the openai client's own (`max_retries`,
`timeout`). With neither a key nor a base URL configured, the offline
generator writes the same reminder from the approved templates, which are
also what any text that fails generation or the safety filter falls back to.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from dataclasses import dataclass, field

import openai
from django.conf import settings

from messaging.rendering import render_template

logger = logging.getLogger(__name__)

OFFLINE_MODEL = "offline-template"
VIP_BOOKINGS = 3  # seed 001: "VIP customer with 3 bookings"

_BENGALI_DIGITS = str.maketrans("0123456789", "০১২৩৪৫৬৭৮৯")
_TRAILING_NUMBER = re.compile(r"(\d{1,2})$")


@dataclass(frozen=True)
class GenerationRequest:
    """What a reminder is about; the same inputs for the model and the approved templates."""

    key: int  # the message row's pk
    locale: str
    customer_name: str
    service_name: str  # in the customer's language
    days_since: int | None
    bookings: int
    promo_code: str | None
    deep_link: str
    channel: str = "email"
    message_type: str = "REMINDER"

    @property
    def language(self) -> str:
        return "en" if self.locale.lower().startswith("en") else "bn"

    @property
    def profile(self) -> str:
        """Seed 001's tones: VIP from three bookings, new after the first, regular otherwise."""
        if self.bookings >= VIP_BOOKINGS:
            return "vip"
        return "new" if self.bookings <= 1 else "regular"


@dataclass
class Generated:
    subject: str
    text: str
    model: str
    prompt_version: int | None
    seconds: float
    error: str = ""  # why the model's text is not there (then this is the approved template)
    flagged: bool | None = None  # the moderation endpoint's verdict, when it was asked
    extra: dict = field(default_factory=dict)


def ai_configured() -> bool:
    """Whether a model is configured: an API key or an OpenAI-compatible base URL."""
    return bool(settings.OPENAI_API_KEY or settings.OPENAI_BASE_URL)


def generate_batch(requests: list[GenerationRequest], prompt=None) -> list[Generated]:
    """One text per request, in order: the model's when configured, else the approved templates'."""
    if not requests:
        return []
    if not ai_configured() or prompt is None:
        return [offline(request) for request in requests]
    return asyncio.run(_generate_all(requests, prompt))


# --- the ai generator -----------------------------------------------------------------------------


def _client() -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(
        # OpenAI-compatible local servers accept any key; the client insists on one.
        api_key=settings.OPENAI_API_KEY or "unused",
        base_url=settings.OPENAI_BASE_URL or None,
        timeout=settings.OPENAI_TIMEOUT_SECONDS,
        max_retries=settings.OPENAI_MAX_RETRIES,
    )


async def _generate_all(requests: list[GenerationRequest], prompt) -> list[Generated]:
    limit = asyncio.Semaphore(max(1, settings.OPENAI_CONCURRENCY))
    async with _client() as client:

        async def one(request: GenerationRequest) -> Generated:
            async with limit:
                return await _generate_one(client, request, prompt)

        return await asyncio.gather(*(one(request) for request in requests))


def prompt_context(request: GenerationRequest) -> dict:
    """The variables a prompt template may use."""
    return {
        "customer_name": request.customer_name,
        "service_name": request.service_name,
        "days_since": request.days_since if request.days_since is not None else "unknown",
        "profile": request.profile,
        "tone": TONES[request.profile],
        "language": "English" if request.language == "en" else "Bengali (Bangla script)",
        "promo_code": request.promo_code or "",
        "deep_link": request.deep_link,
        "channel": request.channel,
        "message_type": request.message_type,
    }


async def _generate_one(client: openai.AsyncOpenAI, request: GenerationRequest, prompt) -> Generated:
    started = time.perf_counter()
    context = prompt_context(request)
    try:
        response = await client.chat.completions.create(
            model=settings.OPENAI_MODEL,
            messages=[
                {"role": "system", "content": render_template(prompt.system_prompt, context)},
                {"role": "user", "content": render_template(prompt.user_prompt, context)},
            ],
            response_format={"type": "json_object"},
            temperature=0.7,
            max_tokens=700,
        )
        subject, text = _parse(response.choices[0].message.content or "")
        flagged = await _moderate(client, f"{subject}\n{text}") if settings.OPENAI_MODERATION else None
    except (openai.OpenAIError, ValueError) as error:
        # Retries are spent (or the answer is unusable): this message falls back, the batch goes on.
        logger.warning("Generation failed for message %s: %s", request.key, error)
        fallback = offline(request)
        fallback.error = f"{type(error).__name__}: {error}"[:500]
        fallback.seconds = time.perf_counter() - started
        return fallback
    return Generated(
        subject=subject,
        text=text,
        model=getattr(response, "model", None) or settings.OPENAI_MODEL,
        prompt_version=prompt.version,
        seconds=time.perf_counter() - started,
        flagged=flagged,
    )


async def _moderate(client: openai.AsyncOpenAI, text: str) -> bool:
    result = await client.moderations.create(input=text)
    return any(item.flagged for item in result.results)


def _parse(content: str) -> tuple[str, str]:
    """(subject, body) from the model's JSON answer; ValueError when it is not one."""
    cleaned = content.strip().removeprefix("```json").removeprefix("```").removesuffix("```").strip()
    try:
        data = json.loads(cleaned)
    except json.JSONDecodeError as error:
        raise ValueError(f"The model did not answer JSON: {content[:80]!r}") from error
    if not isinstance(data, dict) or not isinstance(data.get("body"), str) or not data["body"].strip():
        raise ValueError("The model's JSON has no body")
    subject = data.get("subject") if isinstance(data.get("subject"), str) else ""
    return subject.strip()[:255], data["body"].strip()


# --- the offline generator: approved templates ------------------------------------------------------

TONES = {
    "regular": "warm and friendly, like a helpful neighbour",
    "vip": "premium and respectful: thank them as a valued, loyal customer",
    "new": "welcoming: thank them for trying the service and encourage a second booking",
}

APPROVED = {
    ("bn", "regular"): (
        "আপনার {service} সার্ভিসের সময় হয়েছে 🏠",
        "প্রিয় {name},\n\nআশা করি আপনি ভালো আছেন!\n\n"
        "লক্ষ্য করলাম যে আপনি আমাদের {service} সার্ভিস {days} দিন আগে নিয়েছিলেন। "
        "আপনার বাড়ি সুন্দর রাখতে আবার সার্ভিস নেওয়ার সময় হয়ে গেছে।\n{promo}\n"
        "✨ এখনই বুক করুন:\n{link}\n\nধন্যবাদ,\nShokti টিম",
    ),
    ("bn", "vip"): (
        "বিশেষ আয়োজন: আপনার {service} সার্ভিসের সময় হয়েছে 🔧",
        "প্রিয় {name},\n\nআপনার প্রতি আমাদের বিশেষ কৃতজ্ঞতা! আপনি আমাদের একজন মূল্যবান গ্রাহক।\n\n"
        "আপনি {days} দিন আগে আমাদের {service} সার্ভিস নিয়েছিলেন। "
        "নিয়মিত যত্নে বাড়ি থাকে সমস্যামুক্ত।\n{promo}\n"
        "এখনই বুক করুন:\n{link}\n\nআপনার সেবায় সর্বদা,\nShokti টিম",
    ),
    ("bn", "new"): (
        "আপনার {service} সার্ভিস - আবার প্রয়োজন হতে পারে 🔧",
        "প্রিয় {name},\n\nShokti-তে স্বাগতম! আশা করি আমাদের {service} সার্ভিসে আপনি সন্তুষ্ট ছিলেন।\n\n"
        "আপনি {days} দিন আগে প্রথমবার আমাদের সার্ভিস নিয়েছিলেন। "
        "নিয়মিত যত্ন নিলে ছোট সমস্যা বড় হয় না।\n{promo}\n"
        "সহজে বুক করুন:\n{link}\n\nধন্যবাদ ও শুভকামনা,\nShokti টিম",
    ),
    ("en", "regular"): (
        "Time for your next {service} 🏠",
        "Dear {name},\n\nWe hope you are well!\n\n"
        "Your last {service} with us was {days} days ago, so it may be time for the next one.\n{promo}\n"
        "✨ Book now:\n{link}\n\nThank you,\nThe Shokti team",
    ),
    ("en", "vip"): (
        "Something special for your next {service} 🔧",
        "Dear {name},\n\nThank you for being one of our most valued customers!\n\n"
        "Your last {service} was {days} days ago. Regular care keeps your home trouble-free.\n{promo}\n"
        "Book now:\n{link}\n\nAlways at your service,\nThe Shokti team",
    ),
    ("en", "new"): (
        "Your {service} - ready when you need it again 🔧",
        "Dear {name},\n\nWelcome to Shokti! We hope you were happy with your first {service}.\n\n"
        "That was {days} days ago; regular care stops small problems from growing.\n{promo}\n"
        "Book easily:\n{link}\n\nBest wishes,\nThe Shokti team",
    ),
}

PROMO_LINES = {
    ("bn", True): "\n🎁 আপনার জন্য বিশেষ অফার: {discount}% ছাড়! প্রোমো কোড: {code}\n",
    ("bn", False): "\n🎁 আপনার জন্য বিশেষ অফার! প্রোমো কোড: {code}\n",
    ("en", True): "\n🎁 A special offer for you: {discount}% off with promo code {code}\n",
    ("en", False): "\n🎁 A special offer for you: promo code {code}\n",
}


def promo_discount(promo_code: str | None) -> int | None:
    """The percentage a promo code names by its trailing number (VIP20 → 20), as seed 001's offers read."""
    match = _TRAILING_NUMBER.search(promo_code or "")
    return int(match.group(1)) if match and 1 <= int(match.group(1)) <= 90 else None


def offline(request: GenerationRequest) -> Generated:
    """The approved template for the request's language and profile, filled in."""
    started = time.perf_counter()
    language = request.language
    subject, body = APPROVED[(language, request.profile)]
    days = "" if request.days_since is None else str(request.days_since)
    if language == "bn":
        days = days.translate(_BENGALI_DIGITS)
    promo = ""
    if request.promo_code:
        discount = promo_discount(request.promo_code)
        line = PROMO_LINES[(language, discount is not None)]
        promo = line.format(discount=str(discount).translate(_BENGALI_DIGITS) if language == "bn" else discount,
                            code=request.promo_code)  # fmt: skip
    unknown_days = "কিছু" if language == "bn" else "some"
    values = {"name": request.customer_name, "service": request.service_name, "days": days or unknown_days,
              "promo": promo, "link": request.deep_link}  # fmt: skip
    return Generated(
        subject=subject.format(**values),
        text=body.format(**values),
        model=OFFLINE_MODEL,
        prompt_version=None,
        seconds=time.perf_counter() - started,
    )
