"""What every connector is: fetch raw records (I/O), normalise them (pure pandas)."""

import datetime as dt
import os
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pandas as pd

from sources import http

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
    # False for sources that only speak when something happens (pushed events): a day
    # without rows is then no sign of a gap.
    expects_daily_rows: ClassVar[bool] = True
    # Environment variables the connector needs; missing ones mean "not configured".
    required_settings: ClassVar[tuple[str, ...]] = ()

    def __init__(self, source) -> None:
        self.source = source

    def missing_settings(self) -> list[str]:
        """Names of the secrets this source still needs; empty when configured."""
        return [name for name in self.required_settings if not secret(name)]

    def fetch(self, *, since: dt.date, until: dt.date) -> Batch:
        """Every row for since..until (both included), or raise ConnectorError."""
        raise NotImplementedError


def secret(name: str, *fallbacks: str) -> str:
    """An environment variable read at call time (so tests and restarts see changes), or the
    first fallback variable that is set; '' when none is."""
    for candidate in (name, *fallbacks):
        value = os.environ.get(candidate, "").strip()
        if value:
            return value
    return ""


def fetch_json(method: str, url: str, *, platform: str, **kwargs) -> Any:
    """One call through the HTTP chokepoint, its JSON body decoded. Every failure becomes a
    ConnectorError that says which platform and whether it is permanent."""
    try:
        response = http.request(method, url, **kwargs)
    except http.HTTPError as exc:
        raise ConnectorError(f"{platform}: {exc}", permanent=exc.permanent) from exc
    try:
        return response.json()
    except ValueError as exc:
        raise ConnectorError(f"{platform}: the response is not valid JSON") from exc


def error_body(response) -> dict:
    """The JSON error body of a failed response, {} when there is none."""
    try:
        body = response.json()
    except ValueError:
        return {}
    if isinstance(body, list):  # streaming endpoints wrap the error in an array
        body = body[0] if body and isinstance(body[0], dict) else {}
    return body if isinstance(body, dict) else {}


def long_frame(records: dict[str, list], measures: dict[str, str]) -> pd.DataFrame:
    """Pure: wide columns (date, channel, campaign, campaign_name and one list per measure
    column) → BATCH_COLUMNS, one row per measure. `measures` maps column → measure name."""
    wide = pd.DataFrame(records)
    if wide.empty:
        return pd.DataFrame(columns=BATCH_COLUMNS)
    frame = wide.melt(
        id_vars=["date", "channel", "campaign", "campaign_name"],
        value_vars=list(measures),
        var_name="measure",
        value_name="value",
    )
    frame["measure"] = frame["measure"].map(measures)
    return frame[BATCH_COLUMNS]


def fill_days(
    frame: pd.DataFrame, *, since: dt.date, until: dt.date, measures: list[str], channel: str
) -> pd.DataFrame:
    """Pure: add a 0 for each measure on each day of the window the frame has no row for.

    For counts read from a complete listing (contacts, charges) a successful pull that found
    nothing on a day is a true zero, not a gap; saying so keeps the data checks from calling
    that day missing."""
    seen = set(pd.to_datetime(frame["date"], errors="coerce").dt.date.dropna())
    days = pd.date_range(since, until).date
    zeros = [(day, channel, "", "", m, 0) for day in days if day not in seen for m in measures]
    if not zeros:
        return frame
    return pd.concat([frame, pd.DataFrame(zeros, columns=BATCH_COLUMNS)], ignore_index=True)
