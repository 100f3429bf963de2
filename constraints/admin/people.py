"""People: the Slack member ID on each user (who clicked Approve in Slack), the Slack
interactions received, and the admin's own name."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from constraints.models import SlackIdentity, SlackInteraction

admin.site.site_header = "decisionhub administration"
admin.site.site_title = "decisionhub"
admin.site.index_title = "Rules, sources and people"


class SlackIdentityInline(admin.StackedInline):
    model = SlackIdentity
    can_delete = True
    extra = 1
    max_num = 1


User = get_user_model()
base_admin = (
    admin.site._registry.get(User).__class__ if admin.site.is_registered(User) else UserAdmin
)


@admin.register(SlackInteraction)
class SlackInteractionAdmin(admin.ModelAdmin):
    """The audit of Slack clicks: read-only, written by /slack/interactions/ only."""

    list_display = ["received_at", "member_id", "user", "action", "decision", "outcome"]
    list_filter = ["outcome", "action"]
    search_fields = ["member_id", "user__username"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class UserWithSlackAdmin(base_admin):
    inlines = [*getattr(base_admin, "inlines", []), SlackIdentityInline]
