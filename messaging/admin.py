from django.contrib import admin

from messaging.models import Prompt


@admin.register(Prompt)
class PromptAdmin(admin.ModelAdmin):
    """Generator prompts: a new version is a new row, so every message keeps pointing at the text it used."""

    list_display = ["agent_type", "version", "is_active", "created_at"]
    list_filter = ["agent_type", "is_active"]
    ordering = ["agent_type", "-version"]

    def get_readonly_fields(self, request, obj=None):
        # A version that messages recorded stays as it was; edit by adding the next version.
        return ["agent_type", "version", "system_prompt", "user_prompt"] if obj else []
