"""OpenAPI descriptions of Shokti's authentication schemes for drf-spectacular."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "shokti.auth.ApiTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(header_name="Authorization", token_prefix="Bearer")  # noqa: S106


class InternalTokenScheme(OpenApiAuthenticationExtension):
    target_class = "shokti.auth.InternalTokenAuthentication"
    name = "internalToken"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "X-Internal-Token"}
