"""python manage.py pull [SOURCE ...] [--since D] [--until D]"""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from sources.days import yesterday
from sources.models import Source, SyncRun
from sources.pipeline import sync


class Command(BaseCommand):
    help = (
        "Pull sources (default: every enabled one) for a window (default: yesterday in the "
        "business time zone). Long windows are pulled in chunks. Prints one line per source; "
        "exits non-zero when any source failed."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("sources", nargs="*", metavar="SOURCE", help="source keys")
        parser.add_argument("--since", type=dt.date.fromisoformat, help="first day, YYYY-MM-DD")
        parser.add_argument("--until", type=dt.date.fromisoformat, help="last day, YYYY-MM-DD")

    def handle(self, *args, sources: list[str], since, until, **options) -> None:
        until = until or (since if since and since > yesterday() else yesterday())
        since = since or until
        if since > until:
            raise CommandError(f"--since {since} is after --until {until}")
        failed = [
            source.key for source in self._sources(sources) if self._pull(source, since, until)
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

    def _pull(self, source: Source, since: dt.date, until: dt.date) -> bool:
        """Pull and print one line; return whether the source failed."""
        runs = sync(source=source, since=since, until=until)
        last = runs[-1]
        stored = sum(run.rows_stored for run in runs)
        rejected = sum(run.rows_rejected for run in runs)
        if last.status == SyncRun.Status.SUCCEEDED:
            line = f"{source.key}: ok {since}..{until}: {stored} rows stored, {rejected} rejected"
            self.stdout.write(self.style.SUCCESS(line))
        elif last.status == SyncRun.Status.NOT_CONFIGURED:
            self.stdout.write(self.style.WARNING(f"{source.key}: not configured: {last.error}"))
        else:
            self.stdout.write(self.style.ERROR(f"{source.key}: {last.summary()}"))
        return last.failed
