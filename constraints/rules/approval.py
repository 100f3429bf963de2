"""A staff user approves or rejects a proposed decision. Each proposal is answered once, and
approving executes it once: the answer is claimed with `filter(...).update(...) == 1`, and only
the caller that claimed it executes."""

from django.utils import timezone

from constraints.models import Constraint, Decision
from constraints.rules.execution import execute


def _answer(*, decision: Decision, user, status: str) -> bool:
    now = timezone.now()
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
        reason=f"{Decision.Status(status).label} by {user}.",
    )
    decision.refresh_from_db()
    return claimed == 1


def approve(*, decision: Decision, user) -> bool:
    """Approve a proposal and execute it; False when it was no longer waiting (answered,
    expired). The decision afterwards shows the outcome (applied, failed, skipped and why)."""
    if not _answer(decision=decision, user=user, status=Decision.Status.APPROVED):
        return False
    execute(decision=decision)
    decision.refresh_from_db()
    return True


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


def reject(*, decision: Decision, user) -> bool:
    return _answer(decision=decision, user=user, status=Decision.Status.REJECTED)


def expire_proposals() -> int:
    """Expire proposals nobody answered before the end of their period; return how many."""
    now = timezone.now()
    return Decision.objects.filter(status=Decision.Status.PROPOSED, expires_at__lte=now).update(
        status=Decision.Status.EXPIRED,
        reason="Nobody approved it before the end of its period.",
        updated_at=now,
    )
