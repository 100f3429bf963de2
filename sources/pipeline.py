"""Pull one source over one window into Measure rows: record, fetch, validate, store."""

import datetime as dt
import logging
from decimal import Decimal

import pandas as pd
from django.db import transaction

from sources.connectors import ConnectorError, Rejected, connector_for
from sources.models import Campaign, Channel, DeadLetter, Measure, Source, SyncRun

log = logging.getLogger(__name__)
KEY = ["date", "channel_id", "campaign", "measure"]


def pull(*, source: Source, since: dt.date, until: dt.date) -> SyncRun:
    """Replace the source's measures for since..until with what the platform says now.

    All or nothing: the run either stores every valid row of the window or leaves the stored
    data exactly as it was. The returned run says what happened; it never raises for a
    platform failure.
    """
    run = SyncRun.objects.create(source=source, since=since, until=until, attempts=1)
    try:
        batch = connector_for(source).fetch(since=since, until=until)
    except ConnectorError as exc:
        log.warning("pull %s %s..%s failed: %s", source.key, since, until, exc)
        run.finish(status=SyncRun.Status.FAILED, error=str(exc))
        return run
    run.pages = batch.pages
    run.rows_received = len(batch.frame)
    frame, rejected = validate(batch.frame, since=since, until=until, measures=source.measures)
    rejected = batch.rejected + rejected
    with transaction.atomic():
        run.rows_stored = store(source=source, frame=frame, since=since, until=until)
        record_rejects(run=run, rejected=rejected)
        run.rows_rejected = len(rejected)
        run.finish(status=SyncRun.Status.SUCCEEDED)
    log.info(
        "pull %s %s..%s stored=%d rejected=%d",
        source.key,
        since,
        until,
        run.rows_stored,
        run.rows_rejected,
    )
    return run


def validate(
    frame: pd.DataFrame, *, since: dt.date, until: dt.date, measures: list[str]
) -> tuple[pd.DataFrame, list[Rejected]]:
    """Pure: split a batch into storable rows and rejects with a reason each."""
    frame = frame.copy()
    if measures:
        frame = frame[frame["measure"].isin(measures)]
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce")
    dates = pd.to_datetime(frame["date"], errors="coerce")
    reasons = pd.Series("", index=frame.index, dtype=object)
    reasons[frame["value"].isna()] = "value is not a number"
    reasons[dates.isna()] = "date is not a date"
    outside = dates.notna() & ((dates.dt.date < since) | (dates.dt.date > until))
    reasons[outside] = f"date outside the window {since}..{until}"
    bad = reasons != ""
    rejected = [
        Rejected(raw={k: _jsonable(v) for k, v in row.items()}, reason=reasons[i])
        for i, row in frame[bad].to_dict("index").items()
    ]
    good = frame[~bad].copy()
    good["date"] = dates[~bad].dt.date
    return good, rejected


def _jsonable(value):
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and pd.isna(value):
        return None
    return value if isinstance(value, str | int | float | bool | None) else str(value)


def store(*, source: Source, frame: pd.DataFrame, since: dt.date, until: dt.date) -> int:
    """Replace the window's measures of this source with `frame`; return rows stored."""
    frame = resolve_channels(source=source, frame=frame)
    remember_campaigns(source=source, frame=frame)
    # An exact repeat of a row (same raw channel, campaign, day, measure) is one row; two raw
    # channel names that map to one channel add up.
    frame = frame.drop_duplicates(
        subset=["raw_channel", "campaign", "date", "measure"], keep="last"
    )
    totals = frame.groupby(KEY, as_index=False)["value"].sum()
    Measure.objects.filter(source=source, date__gte=since, date__lte=until).delete()
    Measure.objects.bulk_create(
        [
            Measure(
                source=source,
                channel_id=row.channel_id,
                campaign=row.campaign,
                date=row.date,
                name=row.measure,
                value=Decimal(str(round(row.value, 6))),
            )
            for row in totals.itertuples(index=False)
        ],
        batch_size=2000,
    )
    return len(totals)


def resolve_channels(*, source: Source, frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.rename(columns={"channel": "raw_channel"})
    frame["campaign"] = frame["campaign"].fillna("").astype(str)
    if source.channel_id:
        frame["channel_id"] = source.channel_id
        return frame
    names = frame["raw_channel"].fillna("").astype(str)
    ids = {raw: Channel.objects.resolve(raw).pk for raw in names.unique()}
    frame["channel_id"] = names.map(ids)
    return frame


def remember_campaigns(*, source: Source, frame: pd.DataFrame) -> None:
    named = frame[frame["campaign"] != ""].drop_duplicates("campaign", keep="last")
    for row in named.itertuples(index=False):
        Campaign.objects.update_or_create(
            source=source,
            external_id=row.campaign,
            defaults={"name": row.campaign_name or "", "channel_id": row.channel_id},
        )


def record_rejects(*, run: SyncRun, rejected: list[Rejected]) -> None:
    DeadLetter.objects.bulk_create(
        DeadLetter(source=run.source, run=run, raw=r.raw, reason=r.reason[:500], line=r.line)
        for r in rejected
    )
