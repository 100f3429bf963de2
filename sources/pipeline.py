"""Pull one source over one window into Measure rows: record, fetch, validate, store, check.

The database is the ledger: a window counts as pulled only when a SyncRun for it succeeded,
so `catch_up` finds every day a lost task, a dead worker or an outage left out.
"""

import datetime as dt
import hashlib
import json
import logging

import pandas as pd
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from sources import checks, http, revisions, settling, signals, storage, tracking
from sources.connectors import ConnectorError, Rejected, connector_for
from sources.connectors.base import Batch
from sources.days import today, yesterday
from sources.models import DeadLetter, PendingPull, Source, SyncRun, SyncSchedule
from sources.validation import NEGATIVE_SPEND, SPEND_MEASURES, safe_raw, validate

__all__ = ["NEGATIVE_SPEND", "SPEND_MEASURES", "pull", "validate"]
log = logging.getLogger(__name__)
PENDING_GRACE = dt.timedelta(minutes=10)  # a queued day older than this lost its task
RETRY_PAUSE = dt.timedelta(hours=3)  # the hourly watch leaves a source this long after a run


def pull(
    *, source: Source, since: dt.date, until: dt.date, as_of: dt.date | None = None
) -> SyncRun:
    """Replace the source's measures for since..until with what the platform says now.

    All or nothing: the run either stores every valid row of the window or leaves the stored
    data exactly as it was; the values it changes are kept as revisions, aged from `as_of`
    (default today). The returned run says what happened (succeeded, failed, not
    configured); it never raises for a platform failure.
    """
    run = SyncRun.objects.create(source=source, since=since, until=until, as_of=as_of or today())
    connector = connector_for(source)
    missing = connector.missing_settings()
    if missing:
        run.finish(status=SyncRun.Status.NOT_CONFIGURED, error="missing " + ", ".join(missing))
        return run
    batch = _fetch(run=run, connector=connector)
    rejected = None if batch is None else _store(run=run, batch=batch)
    if rejected is None:
        signals.sync_failed.send(sender=Source, source=source, run=run)
    else:
        signals.sync_succeeded.send(sender=Source, source=source, run=run)
        negative_days = {_day_of(r) for r in rejected if r.reason == NEGATIVE_SPEND}
        checks.check_window(
            source=source, since=since, until=until, negative_days=negative_days, as_of=run.as_of
        )
        tracking.check_tracking(source=source, as_of=run.as_of)
    checks.check_stale(source=source, last=None if rejected is None else run)
    return run


def _fetch(*, run: SyncRun, connector) -> Batch | None:
    """The connector's batch, or None with the failure recorded on the run."""
    with http.counting() as tally:
        try:
            batch = connector.fetch(since=run.since, until=run.until)
        except ConnectorError as exc:
            # A permanent error (bad credentials, a retired API version) is no passing fault.
            error = f"permanent: {exc}" if exc.permanent else str(exc)
        except Exception as exc:  # a bug or an unexpected body must still be recorded
            log.exception("pull %s crashed", run.source.key)
            error = f"unexpected error: {type(exc).__name__}: {exc}"
        else:
            run.attempts = max(tally.attempts, 1)
            return batch
    run.attempts = tally.attempts
    log.warning("pull %s %s..%s failed: %s", run.source.key, run.since, run.until, error)
    run.finish(status=SyncRun.Status.FAILED, error=error[:2000])
    return None


def _store(*, run: SyncRun, batch: Batch) -> list[Rejected] | None:
    """Store the batch in one transaction; return the rows refused, or None with the failure
    recorded on the run (then nothing was stored)."""
    source = run.source
    run.pages = batch.pages
    run.rows_received = len(batch.frame) + len(batch.rejected)
    try:
        frame, rejected = validate(
            batch.frame, since=run.since, until=run.until, measures=source.measures
        )
        rejected = batch.rejected + rejected
        with transaction.atomic():
            storage.lock_source(source)
            newer = run.superseded_by()
            if newer is not None:  # it read the platform later: its numbers stand
                run.finish(status=SyncRun.Status.SUCCEEDED, error=f"superseded by run {newer.pk}")
                return rejected
            run.rows_stored = storage.replace_window(
                source=source,
                frame=frame,
                since=run.since,
                until=run.until,
                on_revised=lambda rows: revisions.record(run=run, revised=rows),
            )
            record_rejects(run=run, rejected=rejected)
            run.rows_rejected = len(rejected)
            run.finish(status=SyncRun.Status.SUCCEEDED)
    except Exception as exc:  # the transaction left the data as it was
        log.exception("pull %s could not store", source.key)
        run.rows_stored = run.rows_rejected = 0
        run.finish(status=SyncRun.Status.FAILED, error=f"could not store: {exc}"[:2000])
        return None
    log.info("pull %s %s", source.key, run.summary())
    return rejected


def _day_of(rejected: Rejected) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(rejected.raw.get("date"))[:10])
    except ValueError:
        return None


def record_rejects(*, run: SyncRun, rejected: list[Rejected]) -> None:
    """Keep each refused record once: one a later pull refuses again is not added twice."""
    if not rejected:  # the usual pull: no lookup to build
        return
    letters = {
        _fingerprint(run.source, r): DeadLetter(
            source=run.source, run=run, raw=r.raw, reason=r.reason[:500], line=r.line
        )
        for r in (_storable(r) for r in rejected)
    }
    known = set(
        DeadLetter.objects.filter(
            source=run.source, resolved_at__isnull=True, fingerprint__in=list(letters)
        ).values_list("fingerprint", flat=True)
    )
    for fingerprint, letter in letters.items():
        letter.fingerprint = fingerprint
    DeadLetter.objects.bulk_create(
        letter for fingerprint, letter in letters.items() if fingerprint not in known
    )


def _storable(rejected: Rejected) -> Rejected:
    """The refusal with its raw record and reason safe to store on any database."""
    return Rejected(
        raw=safe_raw(rejected.raw), reason=safe_raw(rejected.reason), line=rejected.line
    )


def _fingerprint(source: Source, rejected: Rejected) -> str:
    raw = json.dumps(rejected.raw, sort_keys=True, default=str)
    return hashlib.sha256(f"{source.pk}|{rejected.reason}|{raw}".encode()).hexdigest()


def retry_dead_letter(*, letter: DeadLetter) -> bool:
    """Validate the letter's raw row again and store it; on failure record why it still
    fails. Returns whether it is stored now."""
    if "measure" not in letter.raw:
        return _still_fails(letter, "a platform record, not a row: fix the source, pull again")
    frame = pd.DataFrame([letter.raw]).reindex(columns=storage.BATCH_COLUMNS)
    day = _day_of(Rejected(raw=letter.raw, reason=""))
    if day is None:
        return _still_fails(letter, "date is not a date")
    good, rejected = validate(frame, since=day, until=day, measures=letter.source.measures)
    if rejected or good.empty:
        return _still_fails(
            letter, rejected[0].reason if rejected else "measure not kept by this source"
        )
    with transaction.atomic():
        storage.upsert_rows(source=letter.source, frame=good)
        letter.resolve()
    return True


def _still_fails(letter: DeadLetter, why: str) -> bool:
    letter.reason = f"still fails: {why}"[:500]
    letter.save(update_fields=["reason"])
    return False


def windows(since: dt.date, until: dt.date, *, chunk_days: int) -> list[tuple[dt.date, dt.date]]:
    """since..until cut into consecutive windows of at most chunk_days days."""
    chunk = dt.timedelta(days=max(1, chunk_days))
    result = []
    while since <= until:
        end = min(until, since + chunk - dt.timedelta(days=1))
        result.append((since, end))
        since = end + dt.timedelta(days=1)
    return result


def sync(
    *,
    source: Source,
    since: dt.date,
    until: dt.date,
    chunk_days: int | None = None,
    as_of: dt.date | None = None,
) -> list[SyncRun]:
    """Pull a long window chunk by chunk (each chunk all or nothing); stop at the first
    chunk that does not succeed, since the next would fail the same way."""
    chunk_days = chunk_days or SyncSchedule.current().chunk_days
    runs = []
    for start, end in windows(since, until, chunk_days=chunk_days):
        runs.append(pull(source=source, since=start, until=end, as_of=as_of))
        if runs[-1].status != SyncRun.Status.SUCCEEDED:
            break
    return runs


def missing_windows(*, source: Source, since: dt.date, until: dt.date) -> list[tuple]:
    """Consecutive runs of days in since..until that no succeeded run covered."""
    result: list[list[dt.date]] = []
    for day in source.missing_days(since, until):
        if result and day - result[-1][1] == dt.timedelta(days=1):
            result[-1][1] = day
        else:
            result.append([day, day])
    return [tuple(pair) for pair in result]


def nightly_windows(
    *, source: Source, until: dt.date, schedule: SyncSchedule | None = None
) -> list[tuple[dt.date, dt.date]]:
    """What the nightly pull asks for: the days of the catch-up period (of `schedule`, by
    default the current one) no run stored, then the whole restatement window ending
    `until`, which the platform may have revised. A gap that touches the window joins it,
    so one report covers both."""
    schedule = schedule or SyncSchedule.current()
    start = until - dt.timedelta(days=source.restatement_window - 1)
    since = until - dt.timedelta(days=max(schedule.catch_up_days, 1) - 1)
    gaps = missing_windows(source=source, since=since, until=start - dt.timedelta(days=1))
    if gaps and gaps[-1][1] == start - dt.timedelta(days=1):
        start = gaps.pop()[0]
    return [*gaps, (start, until)]


def catch_up(
    *, source: Source, until: dt.date | None = None, as_of: dt.date | None = None
) -> list[SyncRun]:
    """The nightly pull of one source (see `nightly_windows`), as if today were `as_of`
    (default: the day after `until`, which defaults to yesterday)."""
    until = until or (as_of - dt.timedelta(days=1) if as_of else yesterday())
    as_of = as_of or until + dt.timedelta(days=1)
    if connector_for(source).missing_settings():
        return [pull(source=source, since=until, until=until, as_of=as_of)]
    # The restatement window is one report even when it is longer than a backfill chunk.
    schedule = SyncSchedule.current()
    chunk_days = max(schedule.chunk_days, source.restatement_window)
    runs = []
    for start, end in nightly_windows(source=source, until=until, schedule=schedule):
        runs += sync(source=source, since=start, until=end, chunk_days=chunk_days, as_of=as_of)
    return runs


def pull_enabled(*, until: dt.date | None = None, as_of: dt.date | None = None) -> list[SyncRun]:
    """The nightly pull: catch up every enabled source and re-pull its restatement window,
    then learn its completeness curves again. One source failing never stops the others."""
    runs = []
    for source in Source.objects.filter(enabled=True).order_by("pk"):
        runs += nightly(source=source, until=until, as_of=as_of)
    return runs


def nightly(
    *, source: Source, until: dt.date | None = None, as_of: dt.date | None = None
) -> list[SyncRun]:
    """One source's nightly pull followed by learning its completeness curves."""
    runs = catch_up(source=source, until=until, as_of=as_of)
    if any(run.status == SyncRun.Status.SUCCEEDED for run in runs):
        try:
            settling.learn(source=source, as_of=runs[-1].as_of or today())
        except Exception:  # the numbers are stored; the old curve stands until tomorrow
            log.exception("learning the completeness curves of %s failed", source.key)
    return runs


def pull_pending_day(*, source_id: int, day: dt.date) -> SyncRun | None:
    """Claim the source's pending day (delete its row: exactly one task wins) and pull it;
    None when nothing was pending. Events stored after the claim queue a new pull."""
    claimed, _ = PendingPull.objects.filter(source_id=source_id, day=day).delete()
    if not claimed:
        return None
    return pull(source=Source.objects.get(pk=source_id), since=day, until=day)


def pull_forgotten_days(*, now: dt.datetime) -> list[SyncRun]:
    """Pending days whose task was lost (the queue dropped it, a worker died): pull them."""
    old = PendingPull.objects.filter(queued_at__lt=now - PENDING_GRACE).order_by("pk")
    runs = []
    for source_id, day in old.values_list("source_id", "day"):
        run = pull_pending_day(source_id=source_id, day=day)
        runs += [run] if run else []
    return runs


def reconcile(*, now: dt.datetime | None = None) -> list[SyncRun]:
    """The hourly watch, independent of the queue: close runs whose worker died, pull the days
    of the catch-up period that no run stored (the daily task may have been lost), and check
    every source's freshness. A source that failed in the last RETRY_PAUSE is left alone."""
    now = now or timezone.now()
    SyncRun.objects.abandon_stuck(
        started_before=now - dt.timedelta(seconds=settings.Q_CLUSTER["timeout"])
    )
    schedule = SyncSchedule.current()
    until = yesterday()
    since = until - dt.timedelta(days=max(schedule.catch_up_days, 1) - 1)
    runs: list[SyncRun] = pull_forgotten_days(now=now)
    for source in Source.objects.filter(enabled=True).order_by("pk"):
        if connector_for(source).missing_settings():
            continue
        if not source.runs.filter(started_at__gte=now - RETRY_PAUSE).exists():
            for start, end in missing_windows(source=source, since=since, until=until):
                runs += sync(source=source, since=start, until=end, chunk_days=schedule.chunk_days)
        checks.check_stale(source=source, now=now)
    return runs
