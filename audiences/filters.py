"""Query filters of the contacts and segments lists."""

import django_filters
from django.db.models import Q

from audiences.models import Contact, Segment


class ContactFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(
        method="filter_search", help_text="Part of the external id, email, phone or name (case-insensitive)."
    )
    locale = django_filters.CharFilter(help_text="Exactly this locale, e.g. bn.")
    created_after = django_filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="gte", help_text="Created at or after this ISO 8601 time."
    )
    created_before = django_filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="lt", help_text="Created before this ISO 8601 time."
    )

    class Meta:
        model = Contact
        fields = ["search", "locale", "created_after", "created_before"]

    def filter_search(self, queryset, name, value):
        columns = ("external_id", "email", "phone", "first_name", "last_name")
        return queryset.filter(Q.create([(f"{column}__icontains", value) for column in columns], connector=Q.OR))


class SegmentFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(
        field_name="name", lookup_expr="icontains", help_text="Part of the name (case-insensitive)."
    )

    class Meta:
        model = Segment
        fields = ["search"]
