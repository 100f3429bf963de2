"""A staff user approves or rejects a proposed decision. Each proposal is answered once, and
approving executes it once: the answer is claimed with `filter(...).update(...) == 1`, and only
the caller that claimed it executes."""

from django.utils import timezone

from constraints.models import Decision
from constraints.rules.execution import execute


def _answer(*, decision: Decision, user, status: str) -> bool:
    now = timezone.now()
    claimed = Decision.objects.filter(
        pk=decision.pk, status=Decision.Status.PROPOSED, expires_at__gt=now
    ).update(
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
