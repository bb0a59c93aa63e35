from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response


class EnvelopePagination(LimitOffsetPagination):
    """API.md's list body: {"<plural>": [...], "total", "limit", "offset", "has_more"}.

    The plural comes from the view's `envelope_key`, else the model's verbose_name_plural.
    """

    default_limit = 20
    max_limit = 100

    def paginate_queryset(self, queryset, request, view=None):
        self.view = view
        return super().paginate_queryset(queryset, request, view)

    def envelope_key(self) -> str:
        key = getattr(self.view, "envelope_key", None)
        if key:
            return key
        model = self.view.get_queryset().model
        return str(model._meta.verbose_name_plural).replace(" ", "_")

    def get_paginated_response(self, data):
        return Response(
            {
                self.envelope_key(): data,
                "total": self.count,
                "limit": self.limit,
                "offset": self.offset,
                "has_more": self.offset + self.limit < self.count,
            }
        )

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["total", "limit", "offset", "has_more"],
            "properties": {
                "items": schema,
                "total": {"type": "integer"},
                "limit": {"type": "integer"},
                "offset": {"type": "integer"},
                "has_more": {"type": "boolean"},
            },
        }
