"""System checks for alert delivery settings."""

from django.conf import settings
from django.core import checks

SLACK_WEBHOOK_PREFIX = "https://hooks.slack.com/"


@checks.register(checks.Tags.compatibility)
def check_alert_channels(app_configs, **kwargs) -> list[checks.CheckMessage]:
    url = settings.SLACK_WEBHOOK_URL
    if url and not url.startswith(SLACK_WEBHOOK_PREFIX):
        return [
            checks.Warning(
                "SLACK_WEBHOOK_URL does not look like a Slack incoming webhook.",
                hint=f"It should start with {SLACK_WEBHOOK_PREFIX}services/…",
                id="constraints.W001",
            )
        ]
    if not url and not settings.ALERT_EMAIL_TO:
        return [
            checks.Info(
                "No alert channel configured: alerts show on the dashboard only.",
                hint="Set SLACK_WEBHOOK_URL and/or ALERT_EMAIL_TO.",
                id="constraints.I001",
            )
        ]
    return []


@checks.register(checks.Tags.staticfiles, deploy=True)
def check_static_manifest(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """With the manifest storage every page needs collectstatic's manifest when DEBUG is off
    or when only the collected files are served (their hashed names come from it)."""
    if not settings.STATIC_MANIFEST or (settings.DEBUG and settings.WHITENOISE_USE_FINDERS):
        return []
    from django.contrib.staticfiles.storage import staticfiles_storage

    if staticfiles_storage.exists(staticfiles_storage.manifest_name):
        return []
    return [
        checks.Error(
            "No static files manifest: pages will fail to render their CSS and script links.",
            hint="Run `manage.py collectstatic --noinput` (scripts/run does), "
            "or set STATIC_MANIFEST=false to serve unhashed, uncompressed names.",
            id="constraints.E001",
        )
    ]
