from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django_q.tasks import async_task

from sources.connectors import connector_for
from sources.models import (
    Campaign,
    Channel,
    ChannelAlias,
    Completeness,
    DataCheck,
    DeadLetter,
    Revision,
    Source,
    SyncRun,
    SyncSchedule,
    WebhookEvent,
)
from sources.pipeline import retry_dead_letter


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records the system keeps: visible, never edited by hand."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class ChannelAliasInline(admin.TabularInline):
    model = ChannelAlias
    extra = 1


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ["name", "key"]
    search_fields = ["name", "key", "aliases__alias"]
    inlines = [ChannelAliasInline]


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = ["name", "key", "kind", "enabled", "channel", "configuration", "last_run"]
    list_filter = ["kind", "enabled"]
    list_editable = ["enabled"]
    search_fields = ["name", "key"]
    actions = ["pull_now"]
    readonly_fields = ["completeness_curves"]

    @admin.display(description="Completeness by age of the day")
    def completeness_curves(self, source: Source) -> str:
        """Each measure's learnt (or default) curve: the share of the final value reported at
        age 1, 2, … days, and from which age a day counts as settled."""
        curves = list(source.completeness.order_by("name")) if source.pk else []
        if not curves:
            return "Nothing learnt yet: the nightly pull learns it from the revisions it keeps."
        return format_html(
            "<table><tr><th>measure</th><th>share of the final value at age 1, 2, … days</th>"
            "<th>settled from</th><th>from</th></tr>{}</table>",
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>day {}</td><td>{}</td></tr>",
                (
                    (
                        c.name,
                        " · ".join(f"{share:.0%}" for share in c.shares) or "100 % from day 1",
                        c.settles_after,
                        f"learnt from {c.days} days" if c.learned else "platform default",
                    )
                    for c in curves
                ),
            ),
        )

    @admin.display(description="Configuration")
    def configuration(self, source: Source) -> str:
        missing = connector_for(source).missing_settings()
        return f"not configured: missing {', '.join(missing)}" if missing else "configured"

    @admin.display(description="Last run")
    def last_run(self, source: Source) -> str:
        run = source.runs.order_by("-started_at").first()
        return run.summary() if run else "never"

    @admin.action(
        description="Pull now (the nightly pull: missing days and the restatement window)",
        permissions=["change"],
    )
    def pull_now(self, request: HttpRequest, queryset: QuerySet) -> None:
        for source in queryset:
            async_task("sources.tasks.pull_source", source.pk, task_name=f"pull {source.key}")
        self.message_user(
            request,
            f"Queued {len(queryset)} pull(s); their results appear under Sync runs.",
            messages.SUCCESS,
        )


@admin.register(Revision)
class RevisionAdmin(ReadOnlyAdmin):
    list_display = [
        "date", "source", "name", "channel", "campaign", "value", "age_days", "revised_value",
        "revised_age_days", "revised_at",
    ]  # fmt: skip
    list_filter = ["source", "name"]
    date_hierarchy = "date"


@admin.register(Completeness)
class CompletenessAdmin(ReadOnlyAdmin):
    list_display = ["source", "name", "settles_after", "learned", "days", "updated_at"]
    list_filter = ["source", "learned"]


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "external_id", "source", "channel"]
    list_filter = ["source", "channel"]
    search_fields = ["name", "external_id"]


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
    list_display = [
        "source",
        "since",
        "until",
        "status",
        "pages",
        "attempts",
        "rows",
        "started_at",
        "finished_at",
        "error_short",
    ]
    list_filter = ["status", "source"]
    date_hierarchy = "started_at"

    @admin.display(description="Rows in / stored / refused")
    def rows(self, obj: SyncRun) -> str:
        return f"{obj.rows_received} / {obj.rows_stored} / {obj.rows_rejected}"

    @admin.display(description="Error")
    def error_short(self, obj: SyncRun) -> str:
        if len(obj.error) <= 60:
            return obj.error
        return format_html('<span title="{}">{}…</span>', obj.error, obj.error[:59])


@admin.register(DataCheck)
class DataCheckAdmin(ReadOnlyAdmin):
    list_display = ["source", "kind", "day", "message", "status", "found_at", "last_seen_at"]
    list_filter = ["status", "kind", "source"]


@admin.register(DeadLetter)
class DeadLetterAdmin(admin.ModelAdmin):
    """Rows a source sent that could not be stored. Fix `raw` if needed, then retry."""

    list_display = ["source", "reason", "line", "raw", "created_at", "resolved_at"]
    list_filter = ["source", ("resolved_at", admin.EmptyFieldListFilter)]
    readonly_fields = ["source", "run", "line", "reason", "created_at", "resolved_at"]
    fields = ["source", "run", "line", "reason", "raw", "created_at", "resolved_at"]
    actions = ["retry"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Retry: validate again and store", permissions=["change"])
    def retry(self, request: HttpRequest, queryset: QuerySet) -> None:
        letters = queryset.filter(resolved_at__isnull=True).select_related("source")
        stored = sum(retry_dead_letter(letter=letter) for letter in letters)
        failed = len(letters) - stored
        self.message_user(request, f"{stored} stored, {failed} still failing (see reason).")


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ["source", "event", "event_id", "occurred_at", "received_at"]
    list_filter = ["source", "event"]
    search_fields = ["event_id"]


@admin.register(SyncSchedule)
class SyncScheduleAdmin(admin.ModelAdmin):
    list_display = ["__str__", "catch_up_days", "chunk_days"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and not SyncSchedule.objects.exists()
