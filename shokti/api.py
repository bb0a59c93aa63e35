"""GET /api/v1/me: who a token belongs to (as GitHub's GET /user)."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView


class MeView(APIView):
    @extend_schema(
        summary="The caller's user, organization and role",
        responses=inline_serializer(
            "Me",
            {
                "username": serializers.CharField(),
                "organization": serializers.CharField(),
                "role": serializers.CharField(),
                "token_prefix": serializers.CharField(),
            },
        ),
    )
    def get(self, request):
        token = request.auth
        return Response(
            {
                "username": token.membership.user.get_username(),
                "organization": token.organization.slug,
                "role": token.role,
                "token_prefix": token.key_prefix,
            }
        )
