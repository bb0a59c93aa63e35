import django_filters
from django.db.models import Q

from campaigns.models import Campaign, CampaignStatus, CampaignType


class CampaignFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=CampaignStatus.choices)
    type = django_filters.ChoiceFilter(field_name="campaign_type", choices=CampaignType.choices)
    search = django_filters.CharFilter(method="filter_search", help_text="Matches name or description.")
    tags = django_filters.CharFilter(method="filter_tags", help_text="Comma-separated; every tag must be present.")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Campaign
        fields = ["status", "type", "search", "tags", "created_after", "created_before"]

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(description__icontains=value))

    def filter_tags(self, queryset, name, value):
        # JSON containment is PostgreSQL-only; a per-tag text match works on SQLite too.
        for tag in filter(None, (part.strip() for part in value.split(","))):
            queryset = queryset.filter(tags__icontains=f'"{tag}"')
        return queryset
