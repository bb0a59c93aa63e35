"""Customers' sign-in (seed 003): an emailed one-time code exchanged for a customer JWT.

Who is a customer: a contact of the organization named by SMARTENGAGE_ORGANIZATION
whose email matches, case-insensitively; when several contacts share an email
the oldest one is the customer.

Codes are six random digits (`secrets`), stored only as an HMAC-SHA256 under a
key derived from SECRET_KEY, valid CUSTOMER_OTP_TTL_SECONDS, good for one
verification and dead after CUSTOMER_OTP_MAX_ATTEMPTS wrong tries. Each
request for a code counts against the email and against the client address
(fixed windows of cache counters); an email that is nobody's is answered the
same way and counted the same way, but nothing is stored or sent, so the
answers never tell whether an account exists.

Customer tokens are HS256 JWTs like the booking deep links, but with their own
key and audience, so neither kind of token passes for the other.
"""

import hashlib
import hmac
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

import jwt
from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import salted_hmac

from audiences.models import Contact, CustomerOtp
from shokti.errors import ApplicationError
from shokti.models import Organization

ALGORITHM = "HS256"
AUDIENCE = "shokti:customer"
CODE_DIGITS = 6


class RateLimited(Exception):
    """Too many requests in the current window; retry after `retry_after` seconds."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


class OtpRejected(ApplicationError):
    """A code that does not sign anyone in: 401 with the reason."""

    def __init__(self, message: str):
        super().__init__("UNAUTHORIZED", message, status=401)


class CustomerTokenInvalid(ValueError):
    """A customer token that is altered, expired, of another kind, or names no customer."""


@dataclass(frozen=True)
class Customer:
    """request.user and request.auth of a call made with a customer token."""

    contact: Contact
    claims: dict
    is_authenticated = True

    def __str__(self) -> str:
        return f"customer {self.contact.pk}"


# --- keys --------------------------------------------------------------------------------------------


def _code_digest(email: str, code: str) -> str:
    # Bound to the email, so a digest copied to another row proves nothing.
    key = salted_hmac("shokti.audiences.customer_auth", "otp", algorithm="sha256").digest()
    return hmac.new(key, f"{email}\x00{code}".encode(), hashlib.sha256).hexdigest()


def _token_key() -> str:
    # A key of its own: a deep-link key signs no sign-in and the other way round.
    return salted_hmac("shokti.audiences.customer_auth", "customer-token", algorithm="sha256").hexdigest()


def normalize_email(email: str) -> str:
    return email.strip().lower()


# --- rate limits -------------------------------------------------------------------------------------


def _count(kind: str, subject: str, limit: int) -> None:
    """Counts one request of `subject` in the current fixed window; RateLimited past `limit`."""
    window = settings.CUSTOMER_OTP_RATE_WINDOW_SECONDS
    now = time.time()
    start = int(now // window) * window
    digest = hashlib.sha256(subject.encode()).hexdigest()[:32]
    key = f"customer-auth:{kind}:{digest}:{start}"
    cache.add(key, 0, timeout=window + 60)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=window + 60)
        count = 1
    if count > limit:
        retry_after = max(1, int(start + window - now + 0.999))
        raise RateLimited(f"Too many requests; try again in {retry_after} seconds.", retry_after)


def _customer_organization() -> Organization | None:
    return Organization.objects.filter(slug=settings.SMARTENGAGE_ORGANIZATION).first()


def find_customer(email: str) -> Contact | None:
    organization = _customer_organization()
    if organization is None or not email:
        return None
    return (
        Contact.objects.filter(organization=organization, email__iexact=email)
        .select_related("organization")
        .order_by("created_at", "pk")
        .first()
    )


# --- codes -------------------------------------------------------------------------------------------


def request_code(*, email: str, client_address: str) -> None:
    """Mails a fresh code to the customer with this email; does nothing visible for an unknown one."""
    email = normalize_email(email)
    _count("request:addr", client_address, settings.CUSTOMER_OTP_RATE_LIMIT)
    _count("request:email", email, settings.CUSTOMER_OTP_RATE_LIMIT)
    contact = find_customer(email)
    if contact is None:
        return
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    now = timezone.now()
    ttl = settings.CUSTOMER_OTP_TTL_SECONDS
    with transaction.atomic():
        # Only the newest code counts: retire the ones still open.
        CustomerOtp.objects.filter(email=email, used_at__isnull=True).update(used_at=now)
        CustomerOtp.objects.create(
            contact=contact,
            email=email,
            code_digest=_code_digest(email, code),
            created_at=now,
            expires_at=now + timedelta(seconds=ttl),
        )
    minutes = max(1, ttl // 60)
    send_mail(
        subject=f"Your sign-in code: {code}",
        message=(
            f"আপনার সাইন-ইন কোড: {code}\n"
            f"কোডটি {minutes} মিনিট পর্যন্ত বৈধ।\n\n"
            f"Your sign-in code is {code}. It is valid for {minutes} minutes.\n"
            "If you did not ask for it, ignore this email.\n"
        ),
        from_email=None,
        recipient_list=[contact.email],
    )


def verify_code(*, email: str, code: str, client_address: str) -> Contact:
    """The customer whose newest code this is; OtpRejected (401) otherwise, with a try consumed."""
    email = normalize_email(email)
    _count("verify:addr", client_address, settings.CUSTOMER_OTP_VERIFY_RATE_LIMIT)
    otp = CustomerOtp.objects.filter(email=email).select_related("contact").order_by("-created_at", "-pk").first()
    if otp is None:
        raise OtpRejected("The code is not valid. Request a new one.")
    if otp.used_at is not None:
        raise OtpRejected("This code was already used or replaced. Request a new one.")
    if otp.attempts >= settings.CUSTOMER_OTP_MAX_ATTEMPTS:
        raise OtpRejected("Too many wrong codes. Request a new one.")
    if otp.expires_at <= timezone.now():
        raise OtpRejected("The code has expired. Request a new one.")
    if not hmac.compare_digest(otp.code_digest, _code_digest(email, code.strip())):
        # Conditional updates: concurrent tries can neither exceed the limit nor share a code.
        CustomerOtp.objects.filter(pk=otp.pk, attempts__lt=settings.CUSTOMER_OTP_MAX_ATTEMPTS).update(
            attempts=F("attempts") + 1
        )
        left = max(0, settings.CUSTOMER_OTP_MAX_ATTEMPTS - otp.attempts - 1)
        raise OtpRejected(
            f"The code is not valid; {left} tries left." if left else "The code is not valid. Request a new one."
        )
    claimed = CustomerOtp.objects.filter(
        pk=otp.pk, used_at__isnull=True, attempts__lt=settings.CUSTOMER_OTP_MAX_ATTEMPTS
    ).update(used_at=timezone.now())
    if not claimed:
        raise OtpRejected("This code was already used or replaced. Request a new one.")
    return otp.contact


# --- tokens ------------------------------------------------------------------------------------------


def issue_token(contact: Contact) -> tuple[str, int]:
    """A signed customer token and its lifetime in seconds."""
    ttl = settings.CUSTOMER_TOKEN_TTL_SECONDS
    now = timezone.now()
    claims = {
        "sub": str(contact.pk),
        "org": str(contact.organization_id),
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + timedelta(seconds=ttl),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, _token_key(), algorithm=ALGORITHM), ttl


def read_token(token: str) -> Customer:
    try:
        claims = jwt.decode(
            token, _token_key(), algorithms=[ALGORITHM], audience=AUDIENCE, options={"require": ["exp", "sub", "org"]}
        )
    except jwt.ExpiredSignatureError as error:
        raise CustomerTokenInvalid("The token has expired; sign in again.") from error
    except jwt.InvalidTokenError as error:
        raise CustomerTokenInvalid("The token is not valid.") from error
    try:
        contact_id = uuid.UUID(str(claims["sub"]))
    except ValueError as error:
        raise CustomerTokenInvalid("The token is not valid.") from error
    found = Contact.objects.select_related("organization").filter(pk=contact_id, organization_id=claims["org"]).first()
    if found is None:
        raise CustomerTokenInvalid("The token names no customer.")
    return Customer(contact=found, claims=claims)
