"""Writing Measure rows fast, with the database's own bulk upsert.

The ORM's `bulk_create(update_conflicts=True)` costs several times a raw upsert on a year of
campaign rows, so the hot path speaks SQL: `INSERT ... ON CONFLICT DO UPDATE` through
`executemany` on SQLite, COPY into a temporary table and one `INSERT ... SELECT ... ON CONFLICT`
on PostgreSQL. A window is compared with what is stored first, so pulling the same numbers
again writes nothing, and a revised number updates exactly its row.
"""

import datetime as dt
from collections.abc import Callable

import numpy as np
import pandas as pd
from django.db import connection, transaction

from sources.connectors.base import BATCH_COLUMNS
from sources.models import Campaign, Channel, Measure, Source
from sources.validation import as_text

KEY = ["channel_id", "campaign", "date", "measure"]
COLUMNS = ["source_id", "channel_id", "campaign", "date", "name", "value"]
DECIMALS = 6
DELETE_CHUNK = 500
SAME = 0.5 * 10**-DECIMALS  # a stored value this close to the new one is unchanged
# pg_advisory_xact_lock(namespace, source id): one namespace for "a source's stored window".
WINDOW_LOCK = 0x64680001

__all__ = ["BATCH_COLUMNS", "lock_source", "replace_window", "upsert_rows"]


def lock_source(source: Source) -> None:
    """Hold the source's window lock until the current transaction ends, so two pulls or
    webhooks of one source never read, compare and write its window at once.

    PostgreSQL: a transaction-level advisory lock (released at commit or rollback, never
    leaked by a dead worker). SQLite needs none: every write transaction starts IMMEDIATE
    (settings), which already lets one writer in at a time."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [WINDOW_LOCK, source.pk % 2**31])


def replace_window(
    *,
    source: Source,
    frame: pd.DataFrame,
    since: dt.date,
    until: dt.date,
    on_revised: Callable[[pd.DataFrame], None] | None = None,
) -> int:
    """Make the source's stored measures for since..until equal `frame` (validated
    BATCH_COLUMNS rows); return how many rows the window holds now. Call inside a
    transaction: the delete and the upsert must land together. `on_revised` is handed the
    rows whose value changes (KEY, `value`, `value_old`) before they are written: `value_old`
    is NaN for a new row, `value` 0 for a stored row the platform no longer sends."""
    wanted = _totals(source=source, frame=frame)
    stored = _stored(source=source, since=since, until=until)
    unstored = (np.nan, np.nan)
    changed = {
        key: value
        for key, value in wanted.items()
        if not abs(value - stored.get(key, unstored)[1]) <= SAME  # NaN is a change
    }
    changed = dict(sorted(changed.items()))  # in KEY order, as the rows are written
    gone = sorted(key for key in stored if key not in wanted)
    if on_revised is not None:  # changed, new and vanished rows (a vanished row is now 0)
        rows = [(*key, value, stored.get(key, unstored)[1]) for key, value in changed.items()]
        rows += [(*key, 0.0, stored[key][1]) for key in gone]
        on_revised(pd.DataFrame(rows, columns=[*KEY, "value", "value_old"]))
    stale = [stored[key][0] for key in gone]
    for start in range(0, len(stale), DELETE_CHUNK):
        Measure.objects.filter(pk__in=stale[start : start + DELETE_CHUNK]).delete()
    _upsert(source_id=source.pk, totals=changed)
    return len(wanted)


def upsert_rows(*, source: Source, frame: pd.DataFrame) -> int:
    """Add or overwrite the given validated rows, leaving every other row alone."""
    wanted = _totals(source=source, frame=frame)
    with transaction.atomic():
        _upsert(source_id=source.pk, totals=wanted)
    return len(wanted)


def _totals(*, source: Source, frame: pd.DataFrame) -> dict[tuple, float]:
    """KEY (dates as ISO strings) → the value rounded as stored, in the order the keys first
    appear. Plain Python: a pull's window is a few hundred rows, where pandas' groupby costs
    more than the sums."""
    raw_channels, campaigns = as_text(frame["channel"]), as_text(frame["campaign"])
    channel_ids = resolve_channels(source=source, raw_channels=raw_channels)
    channels = [channel_ids[raw_channel] for raw_channel in raw_channels]
    remember_campaigns(
        source=source, campaigns=campaigns, names=frame["campaign_name"], channels=channels
    )
    # An exact repeat of a row (same raw channel, campaign, day, measure) is one row, the
    # last, in the place of its last copy; two raw channel names that map to one channel add up.
    dates, measures = frame["date"].tolist(), frame["measure"].tolist()
    rows = list(zip(raw_channels, campaigns, dates, measures, strict=True))
    latest = dict(zip(rows, zip(channels, frame["value"].tolist(), strict=True), strict=True))
    if len(latest) < len(rows):
        last = {row: n for n, row in enumerate(rows)}
        latest = {row: latest[row] for row in sorted(latest, key=last.__getitem__)}
    iso = {day: day.isoformat() for day in set(dates)}
    totals: dict[tuple, float] = {}
    for (_, campaign, day, measure), (channel_id, value) in latest.items():
        key = (channel_id, campaign, iso[day], measure)
        totals[key] = totals.get(key, 0.0) + value
    rounded = np.round(np.array(list(totals.values()), dtype=float), DECIMALS)
    return dict(zip(totals, rounded.tolist(), strict=True))


def _stored(*, source: Source, since: dt.date, until: dt.date) -> dict[tuple, tuple[int, float]]:
    """KEY (dates as ISO strings) → (id, value) of the source's stored rows of the window."""
    table = connection.ops.quote_name(Measure._meta.db_table)
    adapt = connection.ops.adapt_datefield_value
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, channel_id, campaign, date, name, value FROM {table} "  # noqa: S608
            "WHERE source_id = %s AND date >= %s AND date <= %s",
            [source.pk, adapt(since), adapt(until)],
        )
        rows = cursor.fetchall()
    return {
        (int(channel_id), campaign, str(day), name): (pk, np.nan if value is None else float(value))
        for pk, channel_id, campaign, day, name, value in rows
    }


def _upsert(*, source_id: int, totals: dict[tuple, float]) -> None:
    if not totals:
        return
    rows = [(source_id, *key, value) for key, value in totals.items()]
    if connection.vendor == "postgresql":
        _copy_upsert(rows)
    else:
        with connection.cursor() as cursor:
            cursor.executemany(_upsert_sql(values="(%s, %s, %s, %s, %s, %s)"), rows)


def _upsert_sql(*, values: str) -> str:
    table = connection.ops.quote_name(Measure._meta.db_table)
    columns = ", ".join(COLUMNS)
    source = f"VALUES {values}" if values.startswith("(") else values
    return (
        f"INSERT INTO {table} ({columns}) {source} "  # noqa: S608
        "ON CONFLICT (source_id, channel_id, campaign, date, name) "
        "DO UPDATE SET value = excluded.value"
    )


def _copy_upsert(rows: list[tuple]) -> None:
    """PostgreSQL: COPY the rows into a temporary table, then upsert them in one statement."""
    columns = ", ".join(COLUMNS)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS measure_incoming (source_id bigint, "
            "channel_id bigint, campaign varchar(64), date date, name varchar(40), "
            "value numeric(20, 6)) ON COMMIT DROP"
        )
        with cursor.cursor.copy(f"COPY measure_incoming ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(_upsert_sql(values=f"SELECT {columns} FROM measure_incoming"))  # noqa: S608
        cursor.execute("DELETE FROM measure_incoming")


def resolve_channels(*, source: Source, raw_channels: list[str]) -> dict[str, int]:
    """Raw channel name → channel id: the source's fixed channel, or each name's mapped one."""
    distinct = list(dict.fromkeys(raw_channels))
    if source.channel_id:
        return dict.fromkeys(distinct, source.channel_id)
    return Channel.objects.resolve_ids(distinct)


def remember_campaigns(
    *, source: Source, campaigns: list[str], names: pd.Series, channels: list[int]
) -> None:
    """Create or rename the campaigns seen (each row's campaign, name and channel id),
    writing only what changed."""
    rows = zip(campaigns, zip(as_text(names), channels, strict=True), strict=True)
    seen = {campaign: row for campaign, row in rows if campaign}  # each campaign's last row
    if not seen:  # analytics, CRM and payment sources report channels only
        return
    last = {campaign: n for n, campaign in enumerate(campaigns)}
    seen = {campaign: seen[campaign] for campaign in sorted(seen, key=last.__getitem__)}
    stored = Campaign.objects.filter(source=source)
    rows = stored.values_list("external_id", "pk", "name", "channel_id")
    known = {external_id: (pk, name, channel) for external_id, pk, name, channel in rows}
    for campaign, (name, channel_id) in seen.items():
        pk, known_name, known_channel = known.get(campaign, (None, "", None))
        name = name or known_name
        if pk is None:
            Campaign.objects.create(
                source=source, external_id=campaign, name=name, channel_id=channel_id
            )
        elif (known_name, known_channel) != (name, channel_id):
            Campaign.objects.filter(pk=pk).update(name=name, channel_id=channel_id)
