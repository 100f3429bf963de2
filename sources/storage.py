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

KEY = ["channel_id", "campaign", "date", "measure"]
COLUMNS = ["source_id", "channel_id", "campaign", "date", "name", "value"]
DECIMALS = 6
DELETE_CHUNK = 500
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
    existing = _stored(source=source, since=since, until=until)
    merged = wanted.merge(existing, on=KEY, how="outer", indicator=True, suffixes=("", "_old"))
    stale = merged.loc[merged["_merge"] == "right_only", "id"].astype("int64").tolist()
    same = (merged["_merge"] == "both") & np.isclose(
        merged["value"], merged["value_old"], rtol=0, atol=0.5 * 10**-DECIMALS
    )
    changed = merged[(merged["_merge"] != "right_only") & ~same]
    if on_revised is not None:  # changed, new and vanished rows (a vanished row is now 0)
        gone = merged[merged["_merge"] == "right_only"].assign(value=0.0)
        on_revised(pd.concat([changed, gone], ignore_index=True))
    for start in range(0, len(stale), DELETE_CHUNK):
        Measure.objects.filter(pk__in=stale[start : start + DELETE_CHUNK]).delete()
    _upsert(source_id=source.pk, frame=changed)
    return len(wanted)


def upsert_rows(*, source: Source, frame: pd.DataFrame) -> int:
    """Add or overwrite the given validated rows, leaving every other row alone."""
    wanted = _totals(source=source, frame=frame)
    with transaction.atomic():
        _upsert(source_id=source.pk, frame=wanted)
    return len(wanted)


def _totals(*, source: Source, frame: pd.DataFrame) -> pd.DataFrame:
    """One row per KEY with the value rounded as stored; dates as ISO strings."""
    frame = resolve_channels(source=source, frame=frame)
    remember_campaigns(source=source, frame=frame)
    # An exact repeat of a row (same raw channel, campaign, day, measure) is one row; two raw
    # channel names that map to one channel add up.
    frame = frame.drop_duplicates(
        subset=["raw_channel", "campaign", "date", "measure"], keep="last"
    )
    frame["date"] = frame["date"].map({d: d.isoformat() for d in frame["date"].unique()})
    totals = frame.groupby(KEY, as_index=False, sort=False)["value"].sum()
    totals["value"] = totals["value"].astype(float).round(DECIMALS)
    return totals


def _stored(*, source: Source, since: dt.date, until: dt.date) -> pd.DataFrame:
    table = connection.ops.quote_name(Measure._meta.db_table)
    adapt = connection.ops.adapt_datefield_value
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, channel_id, campaign, date, name, value FROM {table} "  # noqa: S608
            "WHERE source_id = %s AND date >= %s AND date <= %s",
            [source.pk, adapt(since), adapt(until)],
        )
        rows = cursor.fetchall()
    frame = pd.DataFrame.from_records(rows, columns=["id", *KEY[:3], "measure", "value_old"])
    frame["date"] = frame["date"].map({d: str(d) for d in frame["date"].unique()})
    frame["value_old"] = frame["value_old"].astype(float)
    frame["channel_id"] = frame["channel_id"].astype("int64")
    return frame


def _upsert(*, source_id: int, frame: pd.DataFrame) -> None:
    if frame.empty:
        return
    rows = list(
        zip(
            [source_id] * len(frame),
            frame["channel_id"].astype("int64").tolist(),
            frame["campaign"].tolist(),
            frame["date"].tolist(),
            frame["measure"].tolist(),
            frame["value"].tolist(),
            strict=True,
        )
    )
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


def resolve_channels(*, source: Source, frame: pd.DataFrame) -> pd.DataFrame:
    """Add channel_id (the source's fixed channel, or each raw name's mapped channel)."""
    frame = frame.rename(columns={"channel": "raw_channel"})
    for column in ("campaign", "raw_channel"):
        frame[column] = frame[column].astype(object).where(frame[column].notna(), "").astype(str)
    if source.channel_id:
        frame["channel_id"] = source.channel_id
        return frame
    ids = Channel.objects.resolve_ids(frame["raw_channel"].unique().tolist())
    frame["channel_id"] = frame["raw_channel"].map(ids)
    return frame


def remember_campaigns(*, source: Source, frame: pd.DataFrame) -> None:
    """Create or rename the campaigns seen, writing only what changed."""
    named = frame[frame["campaign"] != ""].drop_duplicates("campaign", keep="last")
    if named.empty:  # analytics, CRM and payment sources report channels only
        return
    known = {c.external_id: c for c in Campaign.objects.filter(source=source)}
    for row in named.itertuples(index=False):
        name = "" if pd.isna(row.campaign_name) else str(row.campaign_name)
        campaign = known.get(row.campaign)
        name = name or (campaign.name if campaign else "")
        if campaign is None:
            Campaign.objects.create(
                source=source, external_id=row.campaign, name=name, channel_id=row.channel_id
            )
        elif (campaign.name, campaign.channel_id) != (name, row.channel_id):
            campaign.name, campaign.channel_id = name, row.channel_id
            campaign.save(update_fields=["name", "channel"])
