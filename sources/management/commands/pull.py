"""python manage.py pull [SOURCE ...] [--since D] [--until D] [--as-of D]"""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from sources.days import today
from sources.models import Source, SyncRun
from sources.pipeline import nightly, sync


class Command(BaseCommand):
    help = (
        "Pull sources (default: every enabled one). Without --since/--until this is exactly "
        "the nightly pull: the days of the catch-up period no run stored, and each source's "
        "restatement window ending yesterday, then its completeness curves are learnt again. "
        "--as-of D runs it as if today were D. With --since/--until, that window (long ones in "
        "chunks). Prints one line per source; exits non-zero when any source failed."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("sources", nargs="*", metavar="SOURCE", help="source keys")
        parser.add_argument("--since", type=dt.date.fromisoformat, help="first day, YYYY-MM-DD")
        parser.add_argument("--until", type=dt.date.fromisoformat, help="last day, YYYY-MM-DD")
        parser.add_argument(
            "--as-of", type=dt.date.fromisoformat, help="run as if today were this day"
        )

    def handle(self, *args, sources: list[str], since, until, as_of, **options) -> None:
        as_of = as_of or today()
        if since is None and until is None:
            window = None
        else:
            yesterday = as_of - dt.timedelta(days=1)
            until = until or (since if since and since > yesterday else yesterday)
            since = since or until
            if since > until:
                raise CommandError(f"--since {since} is after --until {until}")
            window = (since, until)
        failed = [
            source.key for source in self._sources(sources) if self._pull(source, window, as_of)
        ]
        if failed:
            raise CommandError(f"failed: {', '.join(failed)}", returncode=1)

    def _sources(self, keys: list[str]) -> list[Source]:
        if not keys:
            return list(Source.objects.filter(enabled=True).order_by("key"))
        found = {s.key: s for s in Source.objects.filter(key__in=keys)}
        unknown = [key for key in keys if key not in found]
        if unknown:
            raise CommandError(f"unknown source(s): {', '.join(unknown)}")
        return [found[key] for key in keys]

    def _pull(self, source: Source, window: tuple | None, as_of: dt.date) -> bool:
        """Pull and print one line; return whether the source failed."""
        if window is None:
            runs = nightly(source=source, as_of=as_of)
        else:
            runs = sync(source=source, since=window[0], until=window[1], as_of=as_of)
        last = runs[-1]
        stored = sum(run.rows_stored for run in runs)
        rejected = sum(run.rows_rejected for run in runs)
        pulled = ", ".join(f"{run.since}..{run.until}" for run in runs)
        if all(run.status == SyncRun.Status.SUCCEEDED for run in runs):
            line = f"{source.key}: ok {pulled}: {stored} rows stored, {rejected} rejected"
            self.stdout.write(self.style.SUCCESS(line))
        elif last.status == SyncRun.Status.NOT_CONFIGURED:
            self.stdout.write(self.style.WARNING(f"{source.key}: not configured: {last.error}"))
        else:
            failed = next(run for run in runs if run.status != SyncRun.Status.SUCCEEDED)
            self.stdout.write(self.style.ERROR(f"{source.key}: {failed.summary()}"))
        return any(run.failed for run in runs)
