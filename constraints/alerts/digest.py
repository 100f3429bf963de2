"""The weekly digest: the constraint's trend, the actions taken, alerts held back or resolved."""

import datetime as dt

from constraints.alerts.rendering import digest_payload, format_value
from constraints.metrics import load_frame, total
from constraints.models import Alert, Constraint, Decision, Delivery, Metric
from sources.days import local_day

WEEK = dt.timedelta(days=7)


def digest_since(*, now: dt.datetime) -> dt.datetime:
    """Where this digest starts: the previous digest, or a week ago."""
    previous = Delivery.objects.filter(kind=Delivery.Kind.DIGEST, created_at__lt=now).first()
    return previous.created_at if previous else now - WEEK


def build_digest(*, now: dt.datetime) -> dict:
    """The digest payload for the period since the previous digest (rendering.digest_payload)."""
    since = digest_since(now=now)
    held = Alert.objects.filter(
        deliveries__state=Delivery.State.HELD, deliveries__created_at__gte=since
    ).distinct()
    last_day = local_day(now) - dt.timedelta(days=1)
    return digest_payload(
        title=f"Weekly digest, week to {last_day:%a %d %b}",
        trend=trend_lines(last_day=last_day),
        actions=action_lines(since=since),
        held=list(held.order_by("-opened_at")),
        resolved=list(Alert.objects.filter(resolved_at__gte=since).order_by("-resolved_at")),
        still_open=Alert.objects.unresolved().count(),
    )


def action_lines(*, since: dt.datetime) -> list[str]:
    applied = Decision.objects.filter(status=Decision.Status.APPLIED, updated_at__gte=since)
    return [
        f"{d.rule.name}: {d.target_label or d.target}"
        + (f" ({d.before_value} → {d.after_value})" if d.after_value is not None else "")
        for d in applied.select_related("rule").order_by("updated_at")
    ]


def trend_lines(*, last_day: dt.date) -> list[str]:
    """Each metric of the active constraint: this week vs the week before and vs target."""
    constraint = Constraint.objects.active()
    if constraint is None:
        return []
    metrics = [m for m in [constraint.headline, *constraint.drivers] if m is not None]
    first_day = last_day - dt.timedelta(days=13)
    frame = load_frame(since=first_day, until=last_day, metrics=metrics)
    return [trend_line(frame, metric, last_day=last_day) for metric in metrics]


def trend_line(frame, metric: Metric, *, last_day: dt.date) -> str:
    week_start = last_day - dt.timedelta(days=6)
    this_week = total(frame, metric, since=week_start, until=last_day)
    last_week = total(frame, metric, since=week_start - WEEK, until=week_start - dt.timedelta(1))
    line = f"{metric.label}: {_fmt(this_week, metric)} (last week {_fmt(last_week, metric)}"
    if this_week is not None and last_week:
        line += f", {this_week / last_week - 1:+.1%}"
    line += ")"
    if metric.target is not None:
        verdict = {True: "on target", False: "off target", None: "unknown"}
        on_target = metric.is_on_target(this_week)
        line += f"; target {_fmt(float(metric.target), metric)}, {verdict[on_target]}"
    return line


def _fmt(value: float | None, metric: Metric) -> str:
    return "no data" if value is None else format_value(value, metric)
