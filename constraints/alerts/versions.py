"""One integration alert per platform whose pinned API version is past its sunset.

Raised by the daily chain each night while it is true and cleared once the pin moves on; the
message names the variable to set (sources/versions.py holds the dates).
"""

from constraints.alerting import clear_alert, raise_alert
from constraints.models import Alert
from sources import versions
from sources.models import Source


def fingerprint(platform: str) -> str:
    return f"integration:api-version:{platform}"


def alert_on_api_versions() -> list[str]:
    """Raise or clear each platform's alert; return the platforms alerted on."""
    used = set(Source.objects.filter(enabled=True).values_list("kind", flat=True))
    alerted = []
    for finding in versions.check_all():
        if finding.retired and finding.platform in used:
            raise_alert(
                kind=Alert.Kind.INTEGRATION,
                fingerprint=fingerprint(finding.platform),
                severity=Alert.Severity.CRITICAL,
                title=f"{versions.PLATFORM_NAME[finding.platform]} {finding.version} is retired",
                body=finding.message,
                data={"version": finding.version, "sunset": str(finding.sunset)},
                target=f"api:{finding.platform}",
            )
            alerted.append(finding.platform)
        else:
            clear_alert(fingerprint=fingerprint(finding.platform))
    return alerted
