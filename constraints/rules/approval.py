"""An approver approves or rejects a proposed decision. Each proposal is answered once, and
approving executes it once: the answer is claimed with `filter(...).update(...) == 1`, and only
the caller that claimed it executes. The page and Slack both come through here."""

import logging

from django.utils import timezone

from constraints.alerting import clear_alert, raise_alert
from constraints.models import Alert, Constraint, Decision
from constraints.rules import actions
from constraints.rules.actions import ActionError
from constraints.rules.execution import SENT_IS_STALE, campaign_of, execute, plan_change
from sources.models import Campaign

log = logging.getLogger(__name__)
REASON_LIMIT = 500


def proposal_fingerprint(decision: Decision) -> str:
    """The alert that announces a proposal (constraints.alerts.proposals)."""
    return f"proposal:{decision.pk}"


def _answer(*, decision: Decision, user, status: str, note: str = "", via: str = "") -> bool:
    now = timezone.now()
    words = f"{Decision.Status(status).label} by {user}{f' from {via}' if via else ''}."
    note = " ".join(note.split())[:REASON_LIMIT]
    waiting = Decision.objects.filter(
        pk=decision.pk, status=Decision.Status.PROPOSED, expires_at__gt=now
    )
    if status == Decision.Status.APPROVED:  # only the active constraint's rules may act
        waiting = waiting.filter(rule__constraint__status=Constraint.Status.ACTIVE)
    claimed = waiting.update(
        status=status,
        approved_by=user,
        answered_at=now,
        updated_at=now,
        reason=f"{words} {note}".strip(),
    )
    decision.refresh_from_db()
    if claimed == 1:
        clear_alert(fingerprint=proposal_fingerprint(decision))
    return claimed == 1


def approve(*, decision: Decision, user, note: str = "", via: str = "", run: bool = True) -> bool:
    """Approve a proposal and execute it; False when it was no longer waiting (answered,
    expired). The decision afterwards shows the outcome (applied, failed, skipped and why).
    With `run=False` only the answer is claimed: the caller queues `execute` (Slack must be
    answered within 3 seconds)."""
    if not _answer(
        decision=decision, user=user, status=Decision.Status.APPROVED, note=note, via=via
    ):
        return False
    if run:
        execute(decision=decision)
        decision.refresh_from_db()
    return True


def reject(*, decision: Decision, user, note: str = "", via: str = "") -> bool:
    """Reject a proposal, with the approver's optional reason kept on the decision."""
    return _answer(
        decision=decision, user=user, status=Decision.Status.REJECTED, note=note, via=via
    )


def resume_approved(*, now=None) -> int:
    """Execute approvals whose queued execution never ran (a Slack click claimed the answer,
    then the worker lost the task): approved and untouched for longer than a whole send.
    Execution claims each from 'approved' once, so a late queued task cannot act twice."""
    now = now or timezone.now()
    stale = Decision.objects.filter(
        status=Decision.Status.APPROVED, updated_at__lt=now - SENT_IS_STALE
    ).select_related("rule")
    resumed = 0
    for decision in stale:
        execute(decision=decision)
        resumed += 1
    return resumed


def approve_all(*, decisions: list[Decision], user, note: str = "") -> list[Decision]:
    """Approve each proposal of a batch (each once); return those this call approved."""
    return [d for d in decisions if approve(decision=d, user=user, note=note)]


def preview(*, decision: Decision) -> Decision:
    """Store on a budget proposal the current budget and the one approving would set, read
    from the platform now, so the approver sees '$120 → $144' before answering. Execution
    reads the platform again: these values are what the approver was shown, not a promise.
    A platform error leaves them unknown (logged); it never blocks the proposal."""
    if decision.status != Decision.Status.PROPOSED or not decision.target.startswith("campaign:"):
        return decision
    try:
        executor = actions.executor_for(campaign_of(decision.target))
        state = executor.read()
    except (ActionError, Campaign.DoesNotExist) as exc:
        log.info("no preview for decision %s: %s", decision.pk, exc)
        return decision
    plan = plan_change(decision=decision, state=state, executor=executor)
    fields = {"before_value": state.budget, "before_status": state.status or ""}
    if not plan.skip:
        fields |= {"after_value": plan.budget, "after_status": plan.status or ""}
    Decision.objects.filter(pk=decision.pk, status=Decision.Status.PROPOSED).update(**fields)
    decision.refresh_from_db()
    return decision


def announce(*, decision: Decision) -> Alert | None:
    """Open the alert that carries a new proposal to Slack (with Approve and Reject buttons,
    see constraints.alerts.rendering) inside the weekly message budget: the day's proposals
    ride in the day's alert message (or make one when there is none); over the budget they
    wait for the digest and the page (constraints.alerts.delivery.plan)."""
    if decision.status != Decision.Status.PROPOSED:
        return None
    return raise_alert(
        kind=Alert.Kind.ACTION,
        fingerprint=proposal_fingerprint(decision),
        severity=Alert.Severity.INFO,
        title=f"Waiting for approval: {decision.rule} → {decision.target_label or decision.target}",
        body=decision.reason,
        data={"proposal": decision.pk, "day": decision.period.isoformat()},
        target=decision.target,
        group=f"proposals:{decision.period.isoformat()}",
    )


def why_not_answered(decision: Decision) -> str:
    """What to tell someone whose approval or rejection was refused."""
    constraint = decision.rule.constraint
    if constraint.status != Constraint.Status.ACTIVE:
        return (
            f"its constraint '{constraint}' is archived"
            f"{f' since {constraint.ended_on}' if constraint.ended_on else ''}; "
            f"it is {decision.get_status_display().lower()} and will not be applied."
        )
    if decision.status == Decision.Status.PROPOSED:
        return "it expired: its period is over."
    return f"it is already {decision.get_status_display().lower()}. {decision.reason}".strip()


def expire_proposals() -> int:
    """Expire proposals nobody answered before the end of their period; return how many."""
    now = timezone.now()
    return Decision.objects.filter(status=Decision.Status.PROPOSED, expires_at__lte=now).update(
        status=Decision.Status.EXPIRED,
        reason="Nobody approved it before the end of its period.",
        updated_at=now,
    )


def close_announcements() -> int:
    """Resolve the announcement of every proposal no longer waiting (expired); answers
    resolve theirs at once. Returns how many were resolved."""
    announced = Alert.objects.unresolved().filter(fingerprint__startswith="proposal:")
    fingerprints = {a.data.get("proposal"): a.fingerprint for a in announced}
    waiting = Decision.objects.filter(pk__in=fingerprints, status=Decision.Status.PROPOSED)
    still = set(waiting.values_list("pk", flat=True))
    return sum(clear_alert(fingerprint=f) for pk, f in fingerprints.items() if pk not in still)
