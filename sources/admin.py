from django.contrib import admin

from sources.models import Campaign, Channel, ChannelAlias, DeadLetter, Source, SyncRun


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
    list_display = ["name", "kind", "enabled", "channel"]
    list_filter = ["kind", "enabled"]


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "external_id", "source", "channel"]
    list_filter = ["source", "channel"]


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    list_display = [
        "source",
        "since",
        "until",
        "status",
        "rows_stored",
        "rows_rejected",
        "started_at",
    ]
    list_filter = ["status", "source"]
    readonly_fields = [f.name for f in SyncRun._meta.fields]


@admin.register(DeadLetter)
class DeadLetterAdmin(admin.ModelAdmin):
    list_display = ["source", "reason", "line", "created_at", "resolved_at"]
    list_filter = ["source"]
