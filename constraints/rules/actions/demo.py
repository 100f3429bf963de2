"""Demo campaigns have no platform: a change is recorded as simulated, never as sent.

The budget a demo campaign has is its demo daily spend, or the last simulated change to it.
"""

from decimal import Decimal

from constraints.rules.actions.base import Executor, State, register
from sources.connectors.demo import CHANNELS

DEMO_BUDGETS = {cid: Decimal(str(budget)) for ch in CHANNELS for cid, _, budget in ch.campaigns}


@register
class DemoExecutor(Executor):
    kind = "demo"
    simulated = True

    def read(self) -> State:
        from constraints.models import Decision

        target = f"campaign:{self.campaign.source.key}:{self.campaign.external_id}"
        changes = Decision.objects.filter(target=target, status=Decision.Status.SIMULATED)
        changes = changes.order_by("-updated_at", "-pk")
        budget = changes.exclude(after_value=None).values_list("after_value", flat=True).first()
        status = changes.exclude(after_status="").values_list("after_status", flat=True).first()
        default = DEMO_BUDGETS.get(self.campaign.external_id, Decimal(100))
        return State(budget=budget or default, status=status or self.active)

    def change(self, state: State, *, budget: Decimal | None, status: str | None) -> dict:
        return {"simulated": True, "note": "Demo campaign: no ad platform was called."}
