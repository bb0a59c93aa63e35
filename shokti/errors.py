"""The one error envelope of API.md, for every error under the API prefixes.

    {"status": "error", "error": "Validation error", "error_code": "INVALID_REQUEST",
     "error_message": "...", "details": {...}, "correlation_id": "...",
     "request_id": "...", "timestamp": "...Z"}

A broken business rule raises `ApplicationError`; DRF's exceptions, Django's
404/500 handlers and `ApiErrorEnvelopeMiddleware` all come out through
`error_response`.
"""

from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import render
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from shokti import correlation


class ApplicationError(Exception):
    """A request that breaks a business rule: answered with `status` and `code`."""

    def __init__(self, code: str, message: str, *, status: int = 400, details: dict | None = None, error: str = ""):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.details = details or {}
        self.error = error


class NotFound(ApplicationError):
    def __init__(self, message: str = "The requested resource was not found.", code: str = "NOT_FOUND"):
        super().__init__(code, message, status=404)


class InvalidStateTransition(ApplicationError):
    def __init__(self, message: str, details: dict | None = None):
        super().__init__("INVALID_STATE_TRANSITION", message, status=409, details=details)


def is_api_path(path: str) -> bool:
    return path.startswith(settings.SHOKTI_API_PREFIXES)


def utc_timestamp() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def error_body(status: int, code: str, message: str, *, details: dict | None = None, error: str = "") -> dict:
    correlation_id = correlation.get_or_new()
    return {
        "status": "error",
        "error": error or HTTPStatus(status).phrase,
        "error_code": code,
        "error_message": message,
        "details": details or {},
        "correlation_id": correlation_id,
        "request_id": correlation_id,
        "timestamp": utc_timestamp(),
    }


def error_response(status: int, code: str, message: str, **kwargs: Any) -> JsonResponse:
    return JsonResponse(
        error_body(status, code, message, **kwargs), status=status, json_dumps_params={"ensure_ascii": False}
    )


# --- DRF ------------------------------------------------------------------------

# DRF's error codes renamed to the pydantic-style types of seed 000's 422 body.
_ERROR_TYPES = {
    "required": "missing",
    "null": "missing",
    "blank": "string_too_short",
    "min_value": "greater_than_equal",
    "max_value": "less_than_equal",
    "max_length": "string_too_long",
    "min_length": "string_too_short",
    "invalid_choice": "enum",
    "max_digits": "decimal_max_digits",
    "not_a_list": "list_type",
    "not_a_dict": "dict_type",
}

_SIMPLE_ERRORS = {
    exceptions.NotAuthenticated: "UNAUTHORIZED",
    exceptions.AuthenticationFailed: "UNAUTHORIZED",
    exceptions.PermissionDenied: "FORBIDDEN",
    exceptions.NotFound: "NOT_FOUND",
    exceptions.MethodNotAllowed: "METHOD_NOT_ALLOWED",
    exceptions.Throttled: "RATE_LIMITED",
}


def validation_errors(detail: Any, loc: tuple = ("body",)) -> list[dict]:
    """Flattens DRF's nested error detail into [{"loc", "msg", "type"}]."""
    if isinstance(detail, dict):
        return [
            error
            for key, value in detail.items()
            for error in validation_errors(value, loc if key == "non_field_errors" else (*loc, key))
        ]
    if isinstance(detail, list):
        if all(isinstance(item, exceptions.ErrorDetail) for item in detail):
            return [error for item in detail for error in validation_errors(item, loc)]
        return [error for index, item in enumerate(detail) for error in validation_errors(item, (*loc, index))]
    code = getattr(detail, "code", None) or "invalid"
    return [{"loc": list(loc), "msg": str(detail), "type": _ERROR_TYPES.get(code, code)}]


def validation_message(errors: list[dict]) -> str:
    if not errors:
        return "The request is invalid."
    first = errors[0]
    field = ".".join(str(part) for part in first["loc"][1:])
    suffix = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return (f"{field}: {first['msg']}" if field else first["msg"]) + suffix


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's EXCEPTION_HANDLER: every API error becomes the envelope."""
    view = context.get("view")
    if isinstance(exc, ApplicationError):
        body = error_body(exc.status, exc.code, exc.message, details=exc.details, error=exc.error)
        return Response(body, status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    # DRF's own handler supplies the headers (WWW-Authenticate, Retry-After, Allow).
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    status = response.status_code
    if isinstance(exc, exceptions.ValidationError):
        errors = validation_errors(exc.detail)
        status = getattr(view, "validation_error_status", 400)
        body = error_body(
            status, "INVALID_REQUEST", validation_message(errors), details={"errors": errors}, error="Validation error"
        )
    elif isinstance(exc, exceptions.ParseError):
        body = error_body(400, "INVALID_REQUEST", f"Malformed request body: {exc.detail}", error="Invalid request")
    else:
        code = next((code for kind, code in _SIMPLE_ERRORS.items() if isinstance(exc, kind)), "INVALID_REQUEST")
        details = {"retry_after_seconds": int(exc.wait)} if isinstance(exc, exceptions.Throttled) and exc.wait else {}
        body = error_body(status, code, str(exc.detail), details=details)
    response.data = body
    response.status_code = status
    return response


# --- Django handlers (DEBUG off) ------------------------------------------------------


def handler404(request, exception=None):
    if is_api_path(request.path):
        return error_response(404, "NOT_FOUND", f"No endpoint or resource at {request.path}.")
    return render(request, "404.html", status=404)


def handler500(request):
    if is_api_path(request.path):
        return error_response(500, "INTERNAL_ERROR", "An internal error occurred.")
    return render(request, "500.html", status=500)
