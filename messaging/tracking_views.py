"""The links recipients follow: the open pixel, tracked clicks and the unsubscribe page.

Public, unauthenticated routes: the signed token is the only credential. A bad
token is a 404 that records nothing and never redirects.
"""

import base64

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from messaging import links, tracking
from messaging.models import Message

TRANSPARENT_GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")

# Channel names in the page's two languages.
CHANNEL_NAMES = {
    "email": ("email", "ইমেইল"),
    "sms": ("SMS", "এসএমএস"),
    "whatsapp": ("WhatsApp", "হোয়াটসঅ্যাপ"),
    "in_app": ("in-app", "অ্যাপের"),
    "webhook": ("", ""),
}


def _read(read_token, token: str):
    try:
        return read_token(token)
    except links.InvalidLinkToken:
        raise Http404("This link is not valid.") from None


@never_cache
@require_safe
def open_pixel(request: HttpRequest, token: str) -> HttpResponse:
    """GET /t/o/<token>: a 1x1 transparent GIF that records the message's first open."""
    message = Message.objects.filter(pk=_read(links.read_open_token, token)).first()
    # Proxies and scanners probe with HEAD; only a GET is someone opening the message.
    if message is not None and request.method == "GET":
        tracking.message_record_open(message=message, payload={"source": "pixel"})
    return HttpResponse(TRANSPARENT_GIF, content_type="image/gif")


@never_cache
@require_safe
def click(request: HttpRequest, token: str) -> HttpResponse:
    """GET /t/c/<token>: records the click and redirects to the target the message contained.

    The target comes only from the signed token, so this cannot redirect
    anywhere a message did not link to. A link in a message whose row is gone
    still leads the recipient on.
    """
    message_pk, target_url = _read(links.read_click_token, token)
    message = Message.objects.filter(pk=message_pk).first()
    if message is not None and request.method == "GET":
        tracking.message_record_click(message=message, url=target_url, payload={"source": "link"})
    response = HttpResponseRedirect(target_url)
    # The target site has no business learning the token (and with it the message) from Referer.
    response["Referrer-Policy"] = "no-referrer"
    return response


# Mail providers send RFC 8058's one-click POST ("List-Unsubscribe=One-Click") with
# no CSRF token. The signed token in the URL is the whole authorization, so a
# cross-site POST can do nothing that anyone holding the link could not.
@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET /u/<token> shows a confirmation page and changes nothing; POST unsubscribes.

    Link scanners follow GETs, so only the POST of the page's button, or a mail
    provider's one-click POST, suppresses the address.
    """
    try:
        message_pk = links.read_unsubscribe_token(token)
    except links.InvalidLinkToken:
        return _invalid_unsubscribe_link(request)
    message = Message.objects.select_related("organization", "campaign", "contact").filter(pk=message_pk).first()
    if message is None:
        return _invalid_unsubscribe_link(request)
    state = "confirm"
    if request.method == "POST":
        one_click = request.POST.get("List-Unsubscribe") == "One-Click"
        tracking.message_unsubscribe(message=message, source="one_click" if one_click else "link")
        state = "done"
    channel_en, channel_bn = CHANNEL_NAMES.get(message.channel_type, ("", ""))
    context = {
        "state": state,
        "organization": message.organization.name,
        "address": _masked(tracking.message_address(message)),
        "channel_en": channel_en,
        "channel_bn": channel_bn,
    }
    return render(request, "messaging/unsubscribe.html", context)


def _invalid_unsubscribe_link(request: HttpRequest) -> HttpResponse:
    return render(request, "messaging/unsubscribe.html", {"state": "invalid"}, status=404)


def _masked(address: str) -> str:
    """Enough of an address for its owner to recognize it, not enough for anyone else to read it."""
    local, at, domain = address.partition("@")
    if at:
        return f"{local[:1]}{'•' * max(len(local) - 1, 1)}@{domain}"
    return f"{'•' * max(len(address) - 4, 1)}{address[-4:]}"
