"""Carry one decision to its outcome, exactly once.

Phases, each committed before the next step: the decision is read (the platform's current
budget and status are stored as `before_*`), planned (`after_*` computed once, rounded as the
platform requires), claimed as sent with `filter(...).update(...) == 1`, then applied or failed.
A send that timed out or got a 5xx may have reached the platform: before sending again the
campaign is read back, and a change already there is recorded as applied, never sent twice.
A decision left 'sent' by a crash is resumed the same way.
"""

import datetime as dt
import logging
from contextlib import suppress
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from constraints.alerting import raise_alert
from constraints.models import ActionSwitch, Alert, Decision, Rule
from constraints.models.rules import DEFAULT_CHANGE_PCT
from constraints.rules import actions
from constraints.rules.actions import ActionError, Executor, State, notify, webhook
from sources import http
from sources.models import Campaign, DataCheck

log = logging.getLogger(__name__)
SEND_ATTEMPTS = 3
# Longer than a whole send (attempts × read timeout + backoff): a 'sent' decision untouched for
# this long was interrupted, not in progress.
SENT_IS_STALE = dt.timedelta(minutes=15)
STARTABLE = (Decision.Status.DECIDED, Decision.Status.APPROVED)
# A data check holds changes while the nightly pulls keep finding it (one a day, and some slack).
CHECK_CONFIRMED_WITHIN = dt.timedelta(hours=36)
# A tracking break undercounts a platform's conversions: it makes the platform look worse,
# never better, so it holds the cuts and pauses it could cause, not a raise the numbers
# support even undercounted (sources/tracking.py).
ONLY_HOLD_CUTS = [DataCheck.Kind.TRACKING]
SPENDS_MORE = {"raise_budget", "resume"}


@dataclass
class Plan:
    """What to send: absolute values, or why nothing is to be sent."""

    budget: Decimal | None = None
    status: str | None = None
    skip: str = ""


def execute(*, decision: Decision) -> Decision:
    """Act on a decided, approved or interrupted (sent) decision; return it with its outcome.

    Never raises for a platform failure: the decision ends failed, with the reason and the
    platform's response, and an alert is raised.
    """
    action = decision.params.get("action")
    if action == Rule.Action.NOTIFY:  # an alert changes nothing: the kill switch lets it through
        return _simple(decision, notify.send)
    if stopped := ActionSwitch.stopped_because():
        return _skip(decision, stopped)  # a decision already sent stays sent until switched on
    if action == Rule.Action.WEBHOOK:
        return _simple(decision, webhook.send)
    return _change_campaign(decision)


def _simple(decision: Decision, send) -> Decision:
    if not _claim(decision, Decision.Status.SENT):
        return decision
    try:
        response = send(decision)
    except ActionError as exc:
        return _fail(decision, str(exc), exc.response)
    decision.move(Decision.Status.APPLIED, response=response)
    return decision


def _change_campaign(decision: Decision) -> Decision:
    if decision.target.startswith("channel:"):
        return _skip(decision, "No campaign of this channel is known: nothing to change.")
    try:
        campaign = campaign_of(decision.target)
        executor = actions.executor_for(campaign)
        if decision.status == Decision.Status.SENT:
            return _resume(decision, executor)
        if blocked := guardrail_block(decision) or data_in_doubt(decision, campaign):
            return _skip(decision, blocked)
        state = executor.read()
    except (ActionError, Campaign.DoesNotExist) as exc:
        return _fail(decision, str(exc), getattr(exc, "response", {}))
    plan = plan_change(decision=decision, state=state, executor=executor)
    if plan.skip:
        return _skip(decision, plan.skip, **_before(state))
    return _send(decision, executor, state, plan)


def _send(decision: Decision, executor: Executor, state: State, plan: Plan) -> Decision:
    after = {"after_value": plan.budget, "after_status": plan.status or ""}
    if executor.simulated:
        if _claim(decision, Decision.Status.SIMULATED, **_before(state), **after):
            response = executor.change(state, budget=plan.budget, status=plan.status)
            decision.move(Decision.Status.SIMULATED, response=response)
        return decision
    if not _claim(decision, Decision.Status.SENT, **_before(state), **after, attempts=1):
        return decision
    return _deliver(decision, executor, state, plan)


def _deliver(decision: Decision, executor: Executor, state: State, plan: Plan) -> Decision:
    error: ActionError | None = None
    for attempt in range(1, SEND_ATTEMPTS + 1):
        if attempt > 1:
            http.sleep(http.backoff(attempt))
            try:
                state = executor.read()
            except ActionError as exc:
                error = exc
                continue
            if reached(decision, state):
                return _applied_on_read_back(decision, error)
            if moved := changed_elsewhere(decision, state):
                return _fail(decision, moved, error.response if error else {})
            Decision.objects.filter(pk=decision.pk).update(
                attempts=attempt, updated_at=timezone.now()
            )
        try:
            response = executor.change(state, budget=plan.budget, status=plan.status)
        except ActionError as exc:
            log.warning("decision %s attempt %d failed: %s", decision.pk, attempt, exc)
            if exc.permanent:
                return _fail(decision, str(exc), exc.response)
            error = exc
            continue
        decision.move(Decision.Status.APPLIED, response=response, attempts=attempt)
        return decision
    return _fail(decision, f"{error} (gave up after {SEND_ATTEMPTS} attempts)", error.response)


def _resume(decision: Decision, executor: Executor) -> Decision:
    """A decision left 'sent' (a crash mid-send): read back, then confirm or send again."""
    claimed = Decision.objects.filter(
        pk=decision.pk,
        status=Decision.Status.SENT,
        attempts=decision.attempts,
        updated_at__lt=timezone.now() - SENT_IS_STALE,  # else another worker is still sending
    ).update(attempts=decision.attempts + 1, updated_at=timezone.now())
    if not claimed:
        decision.refresh_from_db()
        return decision
    try:
        state = executor.read()
    except ActionError as exc:
        return _fail(
            decision, f"could not read back after an interrupted send: {exc}", exc.response
        )
    if reached(decision, state):
        return _applied_on_read_back(decision, None)
    if moved := changed_elsewhere(decision, state):
        return _fail(decision, moved, {})
    plan = Plan(budget=decision.after_value, status=decision.after_status or None)
    return _deliver(decision, executor, state, plan)


def _applied_on_read_back(decision: Decision, error: ActionError | None) -> Decision:
    why = f" after: {error}" if error else ""
    decision.move(
        Decision.Status.APPLIED,
        reason=f"Confirmed by reading the platform back{why}; not sent again.",
        response={"read_back": True, **(error.response if error else {})},
    )
    return decision


def reached(decision: Decision, state: State) -> bool:
    """True when the platform already shows every value the decision meant to set."""
    budget_ok = decision.after_value is None or state.budget == decision.after_value
    status_ok = not decision.after_status or state.status == decision.after_status
    return budget_ok and status_ok


def changed_elsewhere(decision: Decision, state: State) -> str:
    """Why not to send again: someone changed the budget since it was read ('' if nobody)."""
    if decision.after_value is None or state.budget in (decision.before_value, None):
        return ""
    return (
        f"The budget is now {state.budget}, neither {decision.before_value} (before) nor "
        f"{decision.after_value} (this decision): changed outside decisionhub, not sent again."
    )


def plan_change(*, decision: Decision, state: State, executor: Executor) -> Plan:
    """Pure but for the 7-day history: the absolute values to send, or why none."""
    action = decision.params["action"]
    if action == Rule.Action.PAUSE:
        if state.status == executor.paused:
            return Plan(skip=f"Already paused ({state.status}).")
        return Plan(status=executor.paused)
    if action == Rule.Action.RESUME:
        if state.status == executor.active:
            return Plan(skip=f"Already running ({state.status}).")
        return Plan(status=executor.active)
    if state.budget is None:
        return Plan(skip="The platform reports no daily budget here (shared or lifetime).")
    week_base = budget_a_week_ago(decision) or state.budget
    return plan_budget(
        params=decision.params, current=state.budget, week_base=week_base, rounder=executor
    )


def plan_budget(*, params: dict, current: Decimal, week_base: Decimal, rounder) -> Plan:
    """The new budget: the change, then ceiling and floor, then the 7-day limit, rounded."""
    value = Decimal(params["action_value"])
    wanted = {
        Rule.Action.RAISE_BUDGET: current * (1 + value / 100),
        Rule.Action.LOWER_BUDGET: current * (1 - value / 100),
        Rule.Action.SET_BUDGET: value,
    }[params["action"]]
    new, limits = _clamp(wanted, params, week_base, current)
    new = rounder.round_budget(new)
    if new == current:
        why = f" ({', '.join(limits)})" if limits else ""
        return Plan(skip=f"The budget would stay at {current}{why}.")
    return Plan(budget=new)


def _clamp(
    amount: Decimal, params: dict, week_base: Decimal, current: Decimal | None = None
) -> tuple[Decimal, list[str]]:
    limits = []
    floor, ceiling = _decimal(params.get("budget_floor")), _decimal(params.get("budget_ceiling"))
    if ceiling is not None and amount > ceiling:
        amount, _ = ceiling, limits.append(f"ceiling {ceiling}")
    if floor is not None and amount < floor:
        amount, _ = floor, limits.append(f"floor {floor}")
    if current is not None:
        amount = _per_change(amount, params, current, limits)
    weekly = _decimal(params.get("max_weekly_change_pct"))
    if weekly is not None:
        low, high = week_base * (1 - weekly / 100), week_base * (1 + weekly / 100)
        if not low <= amount <= high:
            amount = min(max(amount, low), high)
            limits.append(f"at most {weekly}% change in 7 days from {week_base}")
    return amount, limits


def _per_change(amount: Decimal, params: dict, current: Decimal, limits: list[str]) -> Decimal:
    """At most max_change_pct away from the budget now (the default 50 % when the decision's
    params do not name one)."""
    pct = _decimal(params.get("max_change_pct")) or DEFAULT_CHANGE_PCT
    low, high = current * (1 - pct / 100), current * (1 + pct / 100)
    if not low <= amount <= high:
        amount = min(max(amount, low), high)
        limits.append(f"at most {pct}% per change from {current}")
    return amount


def _decimal(value) -> Decimal | None:
    return None if value in (None, "") else Decimal(value)


def budget_a_week_ago(decision: Decision) -> Decimal | None:
    """The budget before the first change to this target in the 7 days up to its period."""
    since = decision.period - dt.timedelta(days=6)
    first = (
        Decision.objects.changes_of(decision.target)
        .filter(period__gte=since, period__lte=decision.period)
        .exclude(pk=decision.pk)
        .exclude(before_value=None)
        .order_by("period", "created_at")
        .first()
    )
    return first.before_value if first else None


def guardrail_block(decision: Decision) -> str:
    """Why this target must not be changed now ('' when it may): once a day, cooldown."""
    changes = Decision.objects.changes_of(decision.target).exclude(pk=decision.pk)
    if decision.rule.once_per_day:
        other = changes.filter(period=decision.period).select_related("rule").first()
        if other:
            return f"Already changed for {decision.period} by '{other.rule}' (once a day)."
    cooldown = decision.rule.cooldown_days
    if cooldown:
        since = decision.period - dt.timedelta(days=cooldown - 1)
        recent = changes.filter(rule=decision.rule, period__gte=since, period__lte=decision.period)
        if recent.exists():
            return f"Cooling down: this rule changed it less than {cooldown} day(s) ago."
    return ""


def data_in_doubt(decision: Decision, campaign: Campaign) -> str:
    """Why the numbers behind this change are in doubt ('' when they are not): an open data
    check of the campaign's source, found again by the latest pull, on a day the rule read
    (a missing day, a spike), on a day of the source still settling, or on no day (a stale
    source); or an open anomaly on the campaign's channel. A tracking check (conversions
    fell against the CRM's customers) holds only the changes that may spend less.

    The settling days count even when the rule judged older, settled days: a tracking
    break shows first as a collapse in the newest days' conversions, and a change made
    while the platform's own numbers look broken is one nobody can check afterwards. So no
    rule changes the campaign until the check clears, its days settle, or the anomaly
    resolves."""
    since, until = judged_days(decision)
    settled = last_settled_day(decision, campaign.source.key)
    checks = (
        DataCheck.objects.filter(source_id=campaign.source_id, status=DataCheck.Status.OPEN)
        .filter(
            Q(day__isnull=True)
            | Q(day__gte=since, day__lte=until)
            | Q(day__gt=settled, day__lte=decision.period)
        )
        # Found again by the latest pull: a day that left the restatement window is never
        # checked again, so its check stays open without saying anything about today's data.
        .filter(last_seen_at__gte=timezone.now() - CHECK_CONFIRMED_WITHIN)
    )
    if decision.params.get("action") in SPENDS_MORE:
        checks = checks.exclude(kind__in=ONLY_HOLD_CUTS)
    check = checks.order_by("-found_at").first()
    if check is not None:
        return f"Held: the data of {campaign.source.name} is in doubt ({check.message})."
    anomaly = (
        Alert.objects.filter(kind=Alert.Kind.ANOMALY, target=f"channel:{campaign.channel.key}")
        .exclude(status=Alert.Status.RESOLVED)
        .order_by("-last_seen_at")
        .first()
    )
    if anomaly is not None:
        return f"Held: an anomaly is open on this channel ({anomaly.title})."
    return ""


def last_settled_day(decision: Decision, source_key: str) -> dt.date:
    """The last settled day of this source when the decision was judged (its seen numbers
    say): the days after it, up to the decision's period, were still settling. The period
    itself when they do not say (the rule judged the newest days, or an older decision)."""
    with suppress(KeyError, TypeError, ValueError):
        return dt.date.fromisoformat(decision.seen["judged"]["settled"][source_key])
    return decision.period


def judged_days(decision: Decision) -> tuple[dt.date, dt.date]:
    """The first and last day the decision's conditions read (its seen numbers say which);
    the decision's period alone when they do not say."""
    seen = decision.seen or {}
    until = decision.period
    with suppress(KeyError, TypeError, ValueError):
        until = dt.date.fromisoformat(seen["judged"]["until"])
    windows = [c.get("window_days") or 1 for c in seen.get("conditions", [])] or [1]
    return until - dt.timedelta(days=max(windows) - 1), until


def campaign_of(target: str) -> Campaign:
    """'campaign:<source key>:<external id>' → the Campaign."""
    kind, _, rest = target.partition(":")
    source_key, _, external_id = rest.partition(":")
    if kind != "campaign" or not external_id:
        raise ActionError(f"'{target}' is not a campaign: nothing to change.", permanent=True)
    return Campaign.objects.select_related("source", "channel").get(
        source__key=source_key, external_id=external_id
    )


def _before(state: State) -> dict:
    return {"before_value": state.budget, "before_status": state.status}


def _claim(decision: Decision, status: str, **fields) -> bool:
    """Move from a startable phase to `status`; only one caller ever wins."""
    claimed = Decision.objects.filter(pk=decision.pk, status__in=STARTABLE).update(
        status=status, updated_at=timezone.now(), **fields
    )
    decision.refresh_from_db()
    return claimed == 1


def _skip(decision: Decision, reason: str, **fields) -> Decision:
    if _claim(decision, Decision.Status.SKIPPED, reason=reason, **fields):
        log.info("decision %s skipped: %s", decision.pk, reason)
    return decision


def _fail(decision: Decision, reason: str, response: dict | None) -> Decision:
    decision.move(Decision.Status.FAILED, reason=reason, response=response or {})
    raise_alert(
        kind=Alert.Kind.ACTION,
        fingerprint=f"decision-failed-{decision.pk}",
        severity=Alert.Severity.CRITICAL,
        title=f"'{decision.rule}' could not act on {decision.target_label or decision.target}",
        body=reason,
        data={"decision": decision.pk, "response": response or {}},
        target=decision.target,
    )
    return decision
