"""CSV from a file path (option `path`) or an https URL (option `url`, e.g. a Google Sheet
published as CSV) with columns date,channel,measure,value and optionally campaign.

Rows outside the window are skipped (a sheet usually holds its whole history); bad rows inside
it are rejected with their line number and reason; good rows are kept.
"""

import csv
import datetime as dt
import io
from pathlib import Path

import pandas as pd

from sources import http
from sources.connectors import register
from sources.connectors.base import BATCH_COLUMNS, Batch, Connector, ConnectorError, Rejected

PLATFORM = "CSV"
REQUIRED = ("date", "channel", "measure", "value")


def parse(text: str, *, since: dt.date, until: dt.date) -> tuple[pd.DataFrame, list[Rejected]]:
    """Pure: CSV text → (BATCH_COLUMNS rows of the window plus each row's `line`, rejected
    lines). Raises ConnectorError only when the header lacks a required column."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    try:
        header = [(name or "").strip().lower() for name in reader.fieldnames or []]
    except csv.Error as exc:
        raise ConnectorError(
            f"{PLATFORM}: the header cannot be read: {exc}", permanent=True
        ) from exc
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise ConnectorError(f"{PLATFORM}: missing columns {', '.join(missing)}", permanent=True)
    reader.fieldnames = header
    rows, rejected = [], []
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # a field over the size limit, a stray quote: this line only
            rejected.append(
                Rejected(raw={}, reason=f"unreadable line: {exc}", line=reader.line_num)
            )
            continue
        raw = {key: _text(value) for key, value in row.items() if key}
        line = reader.line_num
        reason, day = _problem(raw)
        if reason:
            rejected.append(Rejected(raw=raw, reason=reason, line=line))
        elif since <= day <= until:
            campaign = raw.get("campaign", "")
            value = raw["value"].replace(",", "")
            rows.append((day, raw["channel"], campaign, campaign, raw["measure"], value, line))
    return pd.DataFrame(rows, columns=[*BATCH_COLUMNS, "line"]), rejected


def _text(value) -> str:
    return value.strip() if isinstance(value, str) else ""


def _problem(raw: dict) -> tuple[str, dt.date | None]:
    try:
        day = dt.date.fromisoformat(raw["date"])
    except (ValueError, TypeError):
        return f"date {raw['date']!r} is not YYYY-MM-DD", None
    if not raw["measure"]:
        return "no measure", day
    try:
        float(raw["value"].replace(",", ""))
    except (ValueError, TypeError):
        return f"value {raw['value']!r} is not a number", day
    return "", day


@register
class CsvConnector(Connector):
    kind = "csv"

    def missing_settings(self) -> list[str]:
        options = self.source.options or {}
        return [] if options.get("path") or options.get("url") else ["options.path or options.url"]

    def fetch(self, *, since: dt.date, until: dt.date) -> Batch:
        frame, rejected = parse(self._text(), since=since, until=until)
        return Batch(frame=frame, rejected=rejected, pages=1)

    def _text(self) -> str:
        options = self.source.options or {}
        if options.get("url"):
            if not options["url"].startswith("https://"):
                raise ConnectorError(
                    f"{PLATFORM}: the URL must start with https://", permanent=True
                )
            try:
                return http.request("GET", options["url"]).text
            except http.HTTPError as exc:
                raise ConnectorError(f"{PLATFORM}: {exc}", permanent=exc.permanent) from exc
        try:
            return Path(options["path"]).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConnectorError(f"{PLATFORM}: cannot read {options['path']}: {exc}") from exc
