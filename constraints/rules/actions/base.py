from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import ClassVar

import environ

from sources.models import Campaign

env = environ.Env()
CENT = Decimal("0.01")


class ActionError(Exception):
    """A read or a change failed. Permanent ones (expired token, bad request) fail the
    decision at once; others may be retried after reading back."""

    def __init__(self, message: str, *, permanent: bool = False, response: dict | None = None):
        super().__init__(message)
        self.permanent = permanent
        self.response = response or {}


@dataclass
class State:
    """A campaign as the platform reports it now: daily budget in the account currency,
    status as the platform names it, and whatever the platform needs to change it."""

    budget: Decimal | None
    status: str
    refs: dict = field(default_factory=dict)


class Executor:
    """Changes the campaigns of one source kind. `simulated` ones call no platform."""

    kind: ClassVar[str]
    simulated: ClassVar[bool] = False
    paused: ClassVar[str] = "PAUSED"
    active: ClassVar[str] = "ACTIVE"

    def __init__(self, campaign: Campaign) -> None:
        self.campaign = campaign

    def read(self) -> State:
        raise NotImplementedError

    def change(self, state: State, *, budget: Decimal | None, status: str | None) -> dict:
        """Set the budget and/or status; return the platform's response body."""
        raise NotImplementedError

    def round_budget(self, amount: Decimal) -> Decimal:
        """The nearest budget the platform accepts (whole cents unless a platform says more)."""
        return amount.quantize(CENT, rounding=ROUND_HALF_UP)


_registry: dict[str, type[Executor]] = {}


def register(cls: type[Executor]) -> type[Executor]:
    _registry[cls.kind] = cls
    return cls


def executor_for(campaign: Campaign) -> Executor:
    """The executor for a campaign's source; ActionError(permanent) when none can act."""
    cls = _registry.get(campaign.source.kind)
    if cls is None:
        raise ActionError(
            f"Campaigns of {campaign.source.get_kind_display()} sources cannot be changed "
            "automatically.",
            permanent=True,
        )
    return cls(campaign)


def secret(name: str) -> str:
    """An environment secret an action needs; a permanent error names it when missing."""
    value = env.str(name, default="")
    if not value:
        raise ActionError(
            f"{name} is not set: the action cannot reach the platform.", permanent=True
        )
    return value


def body_of(response) -> dict:
    if response is None:
        return {}
    try:
        body = response.json()
    except ValueError:
        return {"text": response.text[:2000]}
    return body if isinstance(body, dict) else {"body": body}


def from_http(exc) -> ActionError:
    """The chokepoint's HTTPError as an ActionError, keeping the platform's error body."""
    return ActionError(str(exc), permanent=exc.permanent, response=body_of(exc.response))
