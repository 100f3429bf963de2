"""What every connector is: fetch raw records (I/O), normalise them (pure pandas)."""

import datetime as dt
from dataclasses import dataclass, field
from typing import ClassVar

import pandas as pd

# The long format every connector's normalise() returns.
BATCH_COLUMNS = ["date", "channel", "campaign", "campaign_name", "measure", "value"]


class ConnectorError(Exception):
    """A pull failed. Permanent errors (bad credentials, bad request) are not retried."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass
class Rejected:
    raw: dict
    reason: str
    line: int | None = None


@dataclass
class Batch:
    """What one pull produced: rows to store (BATCH_COLUMNS), rows refused, pages read."""

    frame: pd.DataFrame
    rejected: list[Rejected] = field(default_factory=list)
    pages: int = 0

    @classmethod
    def empty(cls) -> "Batch":
        return cls(frame=pd.DataFrame(columns=BATCH_COLUMNS))


class Connector:
    """One platform. Subclasses set `kind` and implement `fetch`."""

    kind: ClassVar[str]
    # Environment variables the connector needs; missing ones mean "not configured".
    required_settings: ClassVar[tuple[str, ...]] = ()

    def __init__(self, source) -> None:
        self.source = source

    def missing_settings(self) -> list[str]:
        """Names of the secrets this source still needs; empty when configured."""
        return []

    def fetch(self, *, since: dt.date, until: dt.date) -> Batch:
        """Every row for since..until (both included), or raise ConnectorError."""
        raise NotImplementedError
