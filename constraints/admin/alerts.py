"""Admin for alerts, their deliveries and the alert policy."""

from django.conf import settings
from django.contrib import admin
from django.utils import timezone

from constraints.models import (
    Alert,
    AlertPolicy,
    Delivery,
)


class DeliveryInline(admin.TabularInline):
    model = Delivery.alerts.through
    extra = 0
    can_delete = False
    verbose_name = "delivery"
    verbose_name_plural = "deliveries"
    readonly_fields = ["delivery"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "severity", "status", "delivery", "opened_at", "last_seen_at"]
    list_filter = ["kind", "severity", "status"]
    search_fields = ["title", "fingerprint", "target"]
    readonly_fields = [
        "fingerprint",
        "kind",
        "group",
        "source",
        "sources",
        "inhibited_by",
        "opened_at",
        "last_seen_at",
        "notified_at",
        "resolved_at",
        "acknowledged_at",
        "acknowledged_by",
        "data",
    ]
    inlines = [DeliveryInline]
    actions = ["acknowledge", "resolve"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("deliveries")

    @admin.display(description="Delivery")
    def delivery(self, alert: Alert) -> str:
        return alert.delivery_state()

    def has_acknowledge_permission(self, request) -> bool:
        return request.user.has_perm("constraints.acknowledge_alert")

    @admin.action(description="Acknowledge (stop reminders)", permissions=["acknowledge"])
    def acknowledge(self, request, queryset) -> None:
        done = sum(alert.acknowledge(request.user) for alert in queryset)
        self.message_user(request, f"Acknowledged {done} alert(s).")

    @admin.action(description="Resolve now", permissions=["change"])
    def resolve(self, request, queryset) -> None:
        done = queryset.unresolved().update(
            status=Alert.Status.RESOLVED, resolved_at=timezone.now()
        )
        self.message_user(request, f"Resolved {done} alert(s).")


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "transport", "state", "attempts", "created_at", "sent_at"]
    list_filter = ["state", "transport", "kind"]
    readonly_fields = [f.name for f in Delivery._meta.fields] + ["alerts"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AlertPolicy)
class AlertPolicyAdmin(admin.ModelAdmin):
    list_display = ["__str__", "weekly_budget", "exceed_budget", "repeat_interval_days"]
    readonly_fields = ["slack"]

    @admin.display(description="Slack")
    def slack(self, policy: AlertPolicy) -> str:
        if settings.SLACK_WEBHOOK_URL:
            return "Configured (SLACK_WEBHOOK_URL in the environment; not shown: it is a secret)."
        return "Not configured: set SLACK_WEBHOOK_URL in the server's environment."

    def has_add_permission(self, request) -> bool:
        return super().has_add_permission(request) and not AlertPolicy.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
