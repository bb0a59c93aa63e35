"""GET /book?token=…: the landing of a booking deep link."""

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from messaging import deeplinks, tracking
from messaging.models import Message
from shokti.errors import error_response


def book(request: HttpRequest) -> HttpResponse:
    """Verifies the token, records the click on its message, and redirects to the booking app."""
    if request.method != "GET":
        return error_response(405, "METHOD_NOT_ALLOWED", f"Method {request.method} is not allowed here.")
    token = request.GET.get("token", "")
    if not token:
        return error_response(400, "INVALID_REQUEST", "The booking link has no token.")
    try:
        claims = deeplinks.read_booking_token(token)
    except deeplinks.DeepLinkExpired as error:
        return error_response(410, "LINK_EXPIRED", str(error), error="Gone")
    except deeplinks.DeepLinkInvalid as error:
        return error_response(400, "INVALID_REQUEST", str(error))
    target = deeplinks.booking_app_url(token, claims)
    message = Message.objects.select_related("campaign", "contact").filter(pk=claims.get("mid") or 0).first()
    if message is not None and str(message.contact_id) == claims["sub"]:
        tracking.message_record_click(message=message, url=target)
        Message.objects.filter(pk=message.pk, user_response="").update(user_response="CLICKED")
    return HttpResponseRedirect(target)
