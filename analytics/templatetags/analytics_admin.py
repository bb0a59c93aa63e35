from django import template

from analytics.admin_links import campaign_analytics_summary

register = template.Library()


@register.simple_tag
def campaign_analytics(campaign) -> str:
    """`{% campaign_analytics original %}`: the headline numbers and the link to the campaign's analytics."""
    return campaign_analytics_summary(campaign)
