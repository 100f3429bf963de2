import csv
import datetime as dt
import json
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError, CommandParser

from constraints.dashboard.exports import (
    MEASURE_COLUMNS,
    METRIC_COLUMNS,
    measure_rows,
    metric_rows,
    safe_row,
)
from constraints.models import Constraint
from sources.days import yesterday

DEFAULT_DAYS = 30


class Command(BaseCommand):
    help = (
        "Write the active constraint's metrics per day and channel (channel 'all' is the "
        "total across channels), or with --measures the raw measures, as CSV or JSON."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", type=dt.date.fromisoformat, help="First day (YYYY-MM-DD)")
        parser.add_argument("--until", type=dt.date.fromisoformat, help="Last day; yesterday")
        parser.add_argument("--format", choices=["csv", "json"], default="csv")
        parser.add_argument("--measures", action="store_true", help="Raw measures instead")

    def handle(self, *args, since, until, format, measures, **options) -> None:
        until = until or yesterday()
        since = since or until - dt.timedelta(days=DEFAULT_DAYS - 1)
        if since > until:
            raise CommandError(f"--since {since} is after --until {until}.")
        if measures:
            columns, rows = MEASURE_COLUMNS, measure_rows(since=since, until=until)
        else:
            columns, rows = METRIC_COLUMNS, self.metric_values(since, until)
        write = self.write_json if format == "json" else self.write_csv
        write(columns, rows)

    def metric_values(self, since: dt.date, until: dt.date):
        constraint = Constraint.objects.active()
        if constraint is None:
            raise CommandError("No active constraint; run apply_template first.")
        table = metric_rows(constraint=constraint, since=since, until=until)
        return table.itertuples(index=False, name=None)

    def write_csv(self, columns: list[str], rows) -> None:
        writer = csv.writer(self.stdout, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow(safe_row(_text(value) for value in row))

    def write_json(self, columns: list[str], rows) -> None:
        records = [dict(zip(columns, map(_json, row), strict=True)) for row in rows]
        self.stdout.write(json.dumps(records))


def _text(value) -> str:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, float):
        return repr(round(value, 6))
    return str(value)


def _json(value):
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, float):
        return round(value, 6)
    return value
