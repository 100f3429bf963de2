"""A staff user approves or rejects a proposed decision. Each proposal is answered once."""

from django.utils import timezone

from constraints.models import Decision


def _answer(*, decision: Decision, user, status: str) -> bool:
    claimed = Decision.objects.filter(pk=decision.pk, status=Decision.Status.PROPOSED).update(
        status=status, approved_by=user, updated_at=timezone.now()
    )
    decision.refresh_from_db()
    return claimed == 1


def approve(*, decision: Decision, user) -> bool:
    """Mark a proposal approved; False when it was no longer waiting (answered, expired)."""
    return _answer(decision=decision, user=user, status=Decision.Status.APPROVED)


def reject(*, decision: Decision, user) -> bool:
    return _answer(decision=decision, user=user, status=Decision.Status.REJECTED)
