"""The API versions we pin, when each platform retires them, and where that date comes from.

Google retires a Google Ads API major version about a year after its release and releases a
new one about every three months; Meta's Marketing API versions live about a year. A pinned
version past its sunset fails every call, so the pin is checked: a system check warns from
WARN_DAYS before the sunset and errors after it, /healthz and an integration alert report a
version past it, and a platform's "retired version" answer fails the run permanently with a
message naming the variable to set. The upgrade routine is in the README.

Dates are the vendors' own, read from their version tables on 2026-12-01:
- Google Ads: https://developers.google.com/google-ads/api/docs/sunset-dates and the sunset
  reminders on https://developers.google.com/ads/blog (v19-v22); releases from
  https://developers.google.com/google-ads/api/docs/release-notes. Versions whose sunset
  Google has not announced yet carry the documented lifespan ("major versions have a lifespan
  of around 12 months") from their release, marked `estimated`.
- Meta: https://developers.facebook.com/documentation/ads-commerce/marketing-api/marketing-api-changelog/versions
  ("Expiration Date"; TBD for the newest two, estimated here as about a year after release,
  as v22-v25 were).
"""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

WARN_DAYS = 60
GOOGLE_ADS = "google_ads"
META_ADS = "meta_ads"
GOOGLE_SOURCE = "https://developers.google.com/google-ads/api/docs/sunset-dates"
META_SOURCE = (
    "https://developers.facebook.com/documentation/ads-commerce/marketing-api/"
    "marketing-api-changelog/versions"
)


@dataclass(frozen=True)
class ApiVersion:
    platform: str  # Source.Kind value
    version: str
    released: dt.date | None  # None where we did not read it
    sunset: dt.date
    estimated: bool  # True while the vendor has not announced the date
    source: str  # where the date comes from


def _google(version: str, released: str, sunset: str, *, estimated: bool = False, url=""):
    return ApiVersion(
        GOOGLE_ADS,
        version,
        dt.date.fromisoformat(released) if released else None,
        dt.date.fromisoformat(sunset),
        estimated,
        url or GOOGLE_SOURCE,
    )


def _meta(version: str, released: str, sunset: str, *, estimated: bool = False):
    return ApiVersion(
        META_ADS,
        version,
        dt.date.fromisoformat(released),
        dt.date.fromisoformat(sunset),
        estimated,
        META_SOURCE,
    )


BLOG = "https://developers.google.com/ads/blog/posts/"
VERSIONS: tuple[ApiVersion, ...] = (
    _google("v19", "2025-02-26", "2026-02-11",
            url=BLOG + "2025/12/google-ads-api-v19-sunset-reminder"),
    _google("v20", "2025-06-04", "2026-06-10",
            url=BLOG + "2026/04/google-ads-api-v20-sunset-reminder"),
    _google("v21", "", "2026-08-05",
            url=BLOG + "2026/06/google-ads-api-v21-sunset-reminder"),
    _google("v22", "", "2026-10-07",
            url=BLOG + "2026/09/google-ads-api-v22-sunset-reminder"),
    _google("v23", "2026-01-28", "2027-01-28", estimated=True),
    _google("v24", "2026-04-22", "2027-04-22", estimated=True),
    _google("v25", "2026-07-22", "2027-07-22", estimated=True),
    _google("v26", "2026-10-14", "2027-10-14", estimated=True),
    _meta("v22.0", "2025-01-21", "2026-02-19"),
    _meta("v23.0", "2025-05-29", "2026-06-09"),
    _meta("v24.0", "2025-10-08", "2026-11-10"),
    _meta("v25.0", "2026-02-18", "2027-02-23"),
    _meta("v26.0", "2026-07-29", "2027-07-29", estimated=True),
    _meta("v27.0", "2026-11-04", "2027-11-04", estimated=True),
)  # fmt: skip

# The newest stable version of each platform: the defaults of the settings below.
NEWEST = {GOOGLE_ADS: "v26", META_ADS: "v27.0"}
SETTING = {GOOGLE_ADS: "GOOGLE_ADS_API_VERSION", META_ADS: "META_API_VERSION"}
PLATFORM_NAME = {GOOGLE_ADS: "Google Ads API", META_ADS: "Meta Marketing API"}


def pinned_version(platform: str) -> str:
    return getattr(settings, SETTING[platform])


def known(platform: str, version: str) -> ApiVersion | None:
    return next((v for v in VERSIONS if (v.platform, v.version) == (platform, version)), None)


def today() -> dt.date:
    return timezone.now().date()


@dataclass(frozen=True)
class Finding:
    """What is true of one pinned version today: `level` is ok, warning or error."""

    platform: str
    version: str
    level: str
    message: str
    sunset: dt.date | None

    @property
    def retired(self) -> bool:
        return self.level == "error"

    def as_json(self) -> dict:
        return {
            "platform": self.platform,
            "version": self.version,
            "ok": not self.retired,
            "sunset": self.sunset.isoformat() if self.sunset else None,
            "message": self.message,
        }


def check(platform: str, *, on: dt.date | None = None) -> Finding:
    """The pinned version of `platform` judged on `on` (default today)."""
    on = on or today()
    version = pinned_version(platform)
    entry = known(platform, version)
    name, setting = PLATFORM_NAME[platform], SETTING[platform]
    if entry is None:
        return Finding(
            platform,
            version,
            "warning",
            f"{name} {version} is not in the version table (sources/versions.py): its sunset "
            f"date is unknown. The newest known stable version is {NEWEST[platform]}.",
            None,
        )
    days = (entry.sunset - on).days
    when = f"{'about ' if entry.estimated else ''}{entry.sunset:%d %b %Y}"
    if days <= 0 and not entry.estimated:
        return Finding(
            platform,
            version,
            "error",
            f"{name} {version} was retired on {when} ({entry.source}): every call fails. "
            f"Set {setting}={NEWEST[platform]} (see the README, 'Upgrading API versions').",
            entry.sunset,
        )
    if days <= WARN_DAYS:
        return Finding(
            platform,
            version,
            "warning",
            f"{name} {version} is retired {'in ' + str(days) + ' days' if days > 0 else 'now'}"
            f" ({when}, {entry.source}). Upgrade {setting} to {NEWEST[platform]} before then.",
            entry.sunset,
        )
    return Finding(platform, version, "ok", f"{name} {version} until {when}", entry.sunset)


def check_all(*, on: dt.date | None = None) -> list[Finding]:
    return [check(platform, on=on) for platform in SETTING]


def retired_message(platform: str) -> str:
    """What a run says when the platform answers that the pinned version is gone."""
    version, setting = pinned_version(platform), SETTING[platform]
    return (
        f"{PLATFORM_NAME[platform]} {version} is retired: the platform refused it. Set "
        f"{setting} to a supported version (newest known: {NEWEST[platform]}) and restart; "
        f"see the README, 'Upgrading API versions'."
    )


def google_ads_url() -> str:
    """The Google Ads REST base with the pinned version: https://…/v26."""
    return f"{settings.GOOGLE_ADS_API_URL.rstrip('/')}/{settings.GOOGLE_ADS_API_VERSION}"


def meta_url() -> str:
    """The Graph API base with the pinned version: https://graph.facebook.com/v27.0."""
    return f"{settings.META_GRAPH_API_URL.rstrip('/')}/{settings.META_API_VERSION}"


META_DEPRECATED_VERSION = 2635  # "(#2635) You are calling a deprecated version of the Ads API"


def retired_answer(platform: str, response) -> str:
    """The retired-version message when `response` is the platform saying the pinned version
    is gone, else ''. Google Ads first answers 400 with the GoogleAdsFailure error code
    requestError UNSUPPORTED_VERSION ("Version v14 is deprecated. Requests to this version will
    be blocked."), then 404 NOT_FOUND for the version's path once it is switched off; Meta
    answers error code 2635 ("You are calling a deprecated version of the Ads API")."""
    body = _json(response)
    if platform == GOOGLE_ADS:
        if response.status_code == 404 or UNSUPPORTED in _google_error_codes(body):
            return retired_message(platform)
    if platform == META_ADS:
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict) and error.get("code") == META_DEPRECATED_VERSION:
            return f"{retired_message(platform)} ({error.get('message', '')})"
    return ""


UNSUPPORTED = "UNSUPPORTED_VERSION"


def _json(response):
    try:
        body = response.json()
    except ValueError:
        return {}
    if isinstance(body, list):  # searchStream wraps its error in an array
        body = body[0] if body and isinstance(body[0], dict) else {}
    return body if isinstance(body, dict) else {}


def _google_error_codes(body: dict) -> set[str]:
    error = body.get("error") or {}
    details = error.get("details") if isinstance(error, dict) else None
    return {
        str(code)
        for detail in details or []
        if isinstance(detail, dict)
        for failure in detail.get("errors") or []
        for code in (failure.get("errorCode") or {}).values()
    }
