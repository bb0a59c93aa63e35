"""Signed links in messages: the open pixel, tracked clicks and unsubscribe.

A token is django.core.signing's compact, URL-safe form of a small JSON value,
signed with SECRET_KEY under one salt per purpose, so that an open token can
never be replayed as a click or an unsubscribe. A click token carries the exact
target, so /t/c/ only ever redirects to a URL that a message contained. Tokens
do not expire: an unsubscribe link has to work for as long as the message sits
in an inbox. Rotating SECRET_KEY keeps old links alive through
SECRET_KEY_FALLBACKS.
"""

from functools import lru_cache
from html import escape
from html.parser import HTMLParser
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.core import signing
from django.urls import get_script_prefix, reverse

OPEN = "open"
CLICK = "click"
UNSUBSCRIBE = "unsubscribe"

_SALTS = {purpose: f"shokti.messaging.links.{purpose}" for purpose in (OPEN, CLICK, UNSUBSCRIBE)}
_TRACKED_SCHEMES = frozenset({"http", "https"})


class InvalidLinkToken(ValueError):
    """A token that was altered, truncated, or signed for another purpose."""


def _sign(purpose: str, value) -> str:
    return signing.Signer(salt=_SALTS[purpose]).sign_object(value, compress=True)


def _unsign(purpose: str, token: str):
    try:
        return signing.Signer(salt=_SALTS[purpose]).unsign_object(token)
    except signing.BadSignature as error:
        raise InvalidLinkToken(f"This {purpose} link is not valid.") from error


def _message_pk(value) -> int:
    # The signature already proves we wrote the value; this guards against a token
    # of an older shape, not against forgery.
    if type(value) is not int or value <= 0:
        raise InvalidLinkToken("The link does not name a message.")
    return value


def is_trackable_url(url: str) -> bool:
    """Whether a click on `url` may be tracked and redirected to: an absolute http(s) URL."""
    parts = urlsplit(url.strip())
    return parts.scheme.lower() in _TRACKED_SCHEMES and bool(parts.netloc)


_TOKEN_SLOT = "TOKEN-SLOT"  # noqa: S105 (a placeholder in a URL, not a secret)


@lru_cache(maxsize=16)
def _route_path(route: str) -> str:
    # reverse() once per route, not once per link: the dispatcher builds several links per message.
    return reverse(f"tracking:{route}", args=[_TOKEN_SLOT])


def _absolute(route: str, token: str) -> str:
    path = _route_path(route).replace(_TOKEN_SLOT, token)
    # SHOKTI_PUBLIC_URL already holds any prefix the app is mounted under; dropping the one
    # reverse() adds inside a request makes a link the same whichever process builds it.
    return f"{settings.SHOKTI_PUBLIC_URL}/{path.removeprefix(get_script_prefix())}"


def open_url(message) -> str:
    """The absolute URL of the open-tracking pixel of `message`."""
    return _absolute("open", _sign(OPEN, message.pk))


def click_url(message, target_url: str) -> str:
    """The absolute tracked URL that records a click on `target_url` in `message`, then redirects there."""
    if not is_trackable_url(target_url):
        raise ValueError(f"Only absolute http(s) URLs can be tracked, not {target_url!r}.")
    return _absolute("click", _sign(CLICK, [message.pk, target_url.strip()]))


def unsubscribe_url(message) -> str:
    """The absolute URL of the unsubscribe page (GET) and RFC 8058 one-click endpoint (POST) of `message`."""
    return _absolute("unsubscribe", _sign(UNSUBSCRIBE, message.pk))


def read_open_token(token: str) -> int:
    """The message pk of an open token; InvalidLinkToken when it is not one."""
    return _message_pk(_unsign(OPEN, token))


def read_click_token(token: str) -> tuple[int, str]:
    """(message pk, target URL) of a click token; InvalidLinkToken when it is not one."""
    value = _unsign(CLICK, token)
    if not (isinstance(value, list) and len(value) == 2 and isinstance(value[1], str)):
        raise InvalidLinkToken("The click link does not name a message and a target.")
    message_pk, target_url = _message_pk(value[0]), value[1]
    if not is_trackable_url(target_url):
        raise InvalidLinkToken("The click link does not point to an http(s) URL.")
    return message_pk, target_url


def read_unsubscribe_token(token: str) -> int:
    """The message pk of an unsubscribe token; InvalidLinkToken when it is not one."""
    return _message_pk(_unsign(UNSUBSCRIBE, token))


def list_unsubscribe_headers(message) -> dict[str, str]:
    """The RFC 2369 and RFC 8058 headers every marketing email carries.

    Mail providers show an unsubscribe button from `List-Unsubscribe` and, with
    `List-Unsubscribe-Post`, unsubscribe with one POST to the URL, no page shown.
    """
    targets = [f"<{unsubscribe_url(message)}>"]
    if settings.SHOKTI_UNSUBSCRIBE_MAILTO:
        subject = quote(f"unsubscribe {message.public_id}")
        targets.append(f"<mailto:{settings.SHOKTI_UNSUBSCRIBE_MAILTO}?subject={subject}>")
    return {"List-Unsubscribe": ", ".join(targets), "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def rewrite_html(html: str, message) -> str:
    """`html` with every http(s) link made a tracked click URL and the open pixel added before `</body>`.

    Only the rewritten `<a>` tags change; every other byte of the markup is kept.
    mailto:, tel:, relative and #fragment links, and links that already point at
    our tracking or unsubscribe routes (the message's own unsubscribe link), stay
    as they are.
    """
    own_prefixes = tuple(_absolute(route, "_").removesuffix("_") for route in ("open", "click", "unsubscribe"))

    def tracked(href: str) -> str | None:
        if not is_trackable_url(href) or href.strip().startswith(own_prefixes):
            return None
        return click_url(message, href)

    parser = _AnchorRewriter(html, tracked)
    pixel = (
        f'<img src="{escape(open_url(message))}" width="1" height="1" alt="" style="border:0;width:1px;height:1px;" />'
    )
    edits = sorted([*parser.edits, (parser.body_end, parser.body_end, pixel)])
    pieces, position = [], 0
    for start, end, text in edits:
        pieces += [html[position:start], text]
        position = end
    return "".join(pieces) + html[position:]


class _AnchorRewriter(HTMLParser):
    """Finds the `<a>` start tags to rewrite and where `</body>` is, as offsets into the source.

    The parser knows comments, scripts and attribute quoting, so a `</body>` in a
    comment or an href inside a script is never mistaken for markup.
    """

    def __init__(self, html: str, tracked):
        super().__init__(convert_charrefs=True)
        self._tracked = tracked
        self._line_starts = [0]
        self._line_starts += [index + 1 for index, char in enumerate(html) if char == "\n"]
        self.edits: list[tuple[int, int, str]] = []
        self.body_end = len(html)
        self.feed(html)
        self.close()

    def _offset(self) -> int:
        line, column = self.getpos()
        return self._line_starts[line - 1] + column

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "a":
            return
        changed = False
        rewritten = []
        for name, value in attrs:
            new_value = self._tracked(value) if name == "href" and value else None
            changed = changed or new_value is not None
            rewritten.append((name, new_value or value))
        if changed:
            source = self.get_starttag_text()
            start = self._offset()
            self.edits.append((start, start + len(source), _start_tag(tag, rewritten, source.endswith("/>"))))

    def handle_endtag(self, tag: str) -> None:
        if tag == "body":
            self.body_end = self._offset()

    def parse_marked_section(self, i: int, report: int = 1) -> int:
        # The stdlib asserts on a `<![keyword …]>` it does not know; email HTML has
        # odd Outlook sections, so skip such a section as text instead of failing.
        try:
            return super().parse_marked_section(i, report)
        except AssertionError:
            end = self.rawdata.find("]>", i)
            return -1 if end < 0 else end + 2


def _start_tag(tag: str, attrs: list[tuple[str, str | None]], self_closing: bool) -> str:
    parts = [tag, *(name if value is None else f'{name}="{escape(value)}"' for name, value in attrs)]
    return f"<{' '.join(parts)}{' /' if self_closing else ''}>"
