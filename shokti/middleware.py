import logging

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse

from shokti import correlation
from shokti.errors import error_response, is_api_path

logger = logging.getLogger(__name__)


class CorrelationIdMiddleware:
    """Takes the caller's X-Correlation-ID when well formed, else makes one, and echoes it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        supplied = request.headers.get(correlation.HEADER)
        value = supplied if correlation.is_well_formed(supplied) else correlation.new_id()
        request.correlation_id = value
        token = correlation.activate(value)
        try:
            response = self.get_response(request)
        finally:
            correlation.deactivate(token)
        response[correlation.HEADER] = value
        return response


class ApiErrorEnvelopeMiddleware:
    """Guarantees the JSON error envelope under the API prefixes.

    DRF's exception handler covers DRF views; this catches what escapes them
    (unhandled exceptions, Django's own 404 and 405 pages), with DEBUG on or off.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code >= 400
            and is_api_path(request.path)
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            return self._envelope_for(request, response)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception):
        if not is_api_path(request.path):
            return None
        if isinstance(exception, Http404):
            return error_response(404, "NOT_FOUND", "The requested resource was not found.")
        logger.exception("Unhandled error on %s %s", request.method, request.path)
        message = f"{type(exception).__name__}: {exception}" if settings.DEBUG else "An internal error occurred."
        return error_response(500, "INTERNAL_ERROR", message)

    @staticmethod
    def _envelope_for(request: HttpRequest, response: HttpResponse) -> HttpResponse:
        status = response.status_code
        if status == 404:
            envelope = error_response(404, "NOT_FOUND", f"No endpoint or resource at {request.path}.")
        elif status == 405:
            envelope = error_response(405, "METHOD_NOT_ALLOWED", f"Method {request.method} is not allowed here.")
            if response.has_header("Allow"):
                envelope["Allow"] = response["Allow"]
        elif status == 403:
            envelope = error_response(403, "FORBIDDEN", "Forbidden.")
        elif status >= 500:
            envelope = error_response(status, "INTERNAL_ERROR", "An internal error occurred.")
        else:
            envelope = error_response(status, "INVALID_REQUEST", "The request could not be processed.")
        return envelope
