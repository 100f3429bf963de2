"""Test data for the dashboard: a cac-efficiency-like constraint, demo measures for five
channels, rules with decisions, and alerts. Built only from models on main, so the page can
be tested before the `demo` command and the templates exist."""

import datetime as dt
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone

from constraints.models import Alert, Constraint, Decision, Metric, Rule
from sources.days import yesterday
from sources.models import Channel, ChannelAlias, Measure, Source, SyncRun, normalise_alias
from sources.pipeline import pull

DEMO_CHANNELS = {
    "google-ads": ("Google Ads", ["Google Ads", "google / cpc", "PAID_SEARCH"]),
    "meta-ads": ("Meta Ads", ["Meta Ads", "facebook / paid", "PAID_SOCIAL"]),
    "linkedin-ads": ("LinkedIn Ads", ["LinkedIn Ads", "linkedin / paid", "LINKEDIN"]),
    "organic-search": ("Organic Search", ["Organic Search", "ORGANIC_SEARCH"]),
    "email": ("Email", ["Email", "EMAIL_MARKETING"]),
}
METRICS = [
    # key, label, role, unit, direction, target, numerator, denominator, scale
    ("blended_cac", "Blended CAC", "headline", "currency", "lower", 420, "spend", "customers", 1),
    ("cpa", "Cost per acquisition", "driver", "currency", "lower", 47, "spend", "conversions", 1),
    ("conversion_rate", "Conversion rate", "driver", "percent", "higher", 3.2,
     "key_events", "sessions", 100),
    ("lead_quality", "Lead quality", "driver", "percent", "higher", 45,
     "qualified_leads", "leads", 100),
]  # fmt: skip


def cac_constraint() -> Constraint:
    """An active constraint shaped like the cac-efficiency template."""
    constraint = Constraint.objects.create(
        name="CAC efficiency",
        question="Which channels get more budget today?",
        template="cac-efficiency",
    )
    for position, row in enumerate(METRICS):
        key, label, role, unit, direction, target, numerator, denominator, scale = row
        Metric.objects.create(
            constraint=constraint, key=key, label=label, role=role, unit=unit,
            direction=direction, target=Decimal(str(target)), numerator=numerator,
            denominator=denominator, scale=scale, position=position,
        )  # fmt: skip
    constraint.activate()
    return constraint


def demo_channels() -> dict[str, Channel]:
    """The five demo channels, with every raw name the demo connector uses as an alias."""
    channels = {}
    for key, (name, aliases) in DEMO_CHANNELS.items():
        channels[key] = Channel.objects.create(key=key, name=name)
        for alias in aliases:
            ChannelAlias.objects.get_or_create(
                alias=normalise_alias(alias), defaults={"channel": channels[key]}
            )
    return channels


def demo_data(*, days: int, until: dt.date | None = None) -> Source:
    """A demo source pulled through the real pipeline for `days` days ending `until`
    (yesterday by default)."""
    until = until or yesterday()
    if not Channel.objects.exists():
        demo_channels()
    source = Source.objects.create(key="demo", name="Demo data", kind=Source.Kind.DEMO)
    pull(source=source, since=until - dt.timedelta(days=days - 1), until=until)
    return source


def synthetic_measures(
    *, days: int, channels: int, until: dt.date | None = None, key: str = "synthetic"
) -> Source:
    """Measures written straight to the table (fast): `channels` channels, `days` days, the
    seven measures the cac-efficiency metrics read, plus a successful SyncRun."""
    until = until or yesterday()
    since = until - dt.timedelta(days=days - 1)
    source = Source.objects.create(key=key, name=key.capitalize(), kind=Source.Kind.CSV)
    made = [
        Channel.objects.get_or_create(key=f"channel-{i:02d}", defaults={"name": f"Ch {i:02d}"})[0]
        for i in range(channels)
    ]
    Measure.objects.bulk_create(
        (
            Measure(source=source, channel=channel, date=since + dt.timedelta(days=d),
                    name=name, value=Decimal(value * (1 + (i % 7) / 10 + (d % 5) / 20)))
            for d in range(days)
            for i, channel in enumerate(made)
            for name, value in SYNTHETIC_DAY
        ),
        batch_size=5000,
    )  # fmt: skip
    SyncRun.objects.create(
        source=source, since=since, until=until, status=SyncRun.Status.SUCCEEDED,
        finished_at=timezone.now(), rows_stored=days * channels * len(SYNTHETIC_DAY),
    )  # fmt: skip
    return source


SYNTHETIC_DAY = [
    ("spend", 400),
    ("conversions", 9),
    ("sessions", 300),
    ("key_events", 10),
    ("leads", 6),
    ("qualified_leads", 3),
    ("customers", 1),
]


def rules_and_decisions(constraint: Constraint, *, day: dt.date | None = None) -> dict:
    """An approval rule with a proposal for Google Ads on `day`, an automatic rule applied to
    Meta Ads the day before, and a dry run for LinkedIn Ads."""
    day = day or yesterday()
    raise_rule = Rule.objects.create(
        constraint=constraint, name="Scale efficient search", mode=Rule.Mode.APPROVAL,
        action=Rule.Action.RAISE_BUDGET, action_value=20,
    )  # fmt: skip
    lower_rule = Rule.objects.create(
        constraint=constraint, name="Trim expensive social", mode=Rule.Mode.AUTOMATIC,
        action=Rule.Action.LOWER_BUDGET, action_value=15,
    )  # fmt: skip
    pause_rule = Rule.objects.create(
        constraint=constraint, name="Pause what never converts", mode=Rule.Mode.DRY_RUN,
        action=Rule.Action.PAUSE,
    )  # fmt: skip
    proposed = Decision.objects.create(
        rule=raise_rule, target="campaign:demo:1201", target_label="Google Ads › Search - Brand",
        period=day, idempotency_key=f"raise:google-ads:{day}", status=Decision.Status.PROPOSED,
        reason="CPA $41.20 beats target $47 and conversion rate 3.6% beats 3.2%",
        params={"action": "raise_budget", "action_value": "20", "mode": "approval"},
        expires_at=timezone.now() + dt.timedelta(days=1),
    )  # fmt: skip
    applied = Decision.objects.create(
        rule=lower_rule, target="channel:meta-ads", target_label="Meta Ads",
        period=day - dt.timedelta(days=1), idempotency_key=f"lower:meta-ads:{day}",
        status=Decision.Status.APPLIED, reason="CPA $58 above target $47 for 7 days",
        before_value=Decimal("300"), after_value=Decimal("255"),
    )  # fmt: skip
    dry_run = Decision.objects.create(
        rule=pause_rule, target="channel:linkedin-ads", target_label="LinkedIn Ads",
        period=day, idempotency_key=f"pause:linkedin-ads:{day}", status=Decision.Status.DRY_RUN,
        reason="Lead quality fine but CPA twice the target",
    )  # fmt: skip
    return {"proposed": proposed, "applied": applied, "dry_run": dry_run}


def alerts() -> dict[str, Alert]:
    """A critical integration alert and a warning anomaly that need attention, plus one
    snoozed into the future and one resolved that don't."""
    now = timezone.now()
    return {
        "failed": Alert.objects.create(
            fingerprint="sync:meta-ads", kind=Alert.Kind.INTEGRATION,
            severity=Alert.Severity.CRITICAL, title="Meta Ads pull failed twice",
            body="Error validating access token: the session has expired.",
        ),
        "spike": Alert.objects.create(
            fingerprint="anomaly:google-ads:spend", kind=Alert.Kind.ANOMALY,
            title="Google Ads spend 2.4× its usual level yesterday",
        ),
        "snoozed": Alert.objects.create(
            fingerprint="anomaly:email:sessions", kind=Alert.Kind.ANOMALY,
            title="Email sessions dropped", status=Alert.Status.SNOOZED,
            snoozed_until=now + dt.timedelta(days=1),
        ),
        "resolved": Alert.objects.create(
            fingerprint="sync:ga4", kind=Alert.Kind.INTEGRATION, title="GA4 quota exceeded",
            status=Alert.Status.RESOLVED, resolved_at=now,
        ),
    }  # fmt: skip


ROLE_PERMISSIONS = {
    "Viewer": ["view_dashboard"],
    "Approver": ["view_dashboard", "approve_decision", "acknowledge_alert"],
}


def staff_user(username: str = "founder", *, role: str = "Approver"):
    """A staff user who holds a role's permissions (given directly: a transactional test's
    flush removes the groups the migration created, not the permissions)."""
    user = get_user_model().objects.create_user(
        username=username, password="correct horse battery", is_staff=True
    )
    grant(user, role)
    return user


def grant(user, role: str) -> None:
    from django.contrib.auth.models import Permission

    codenames = ROLE_PERMISSIONS[role]
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="constraints", codename__in=codenames)
    )
