import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from constraints.rules.evaluation import evaluate
from sources.days import yesterday


class Command(BaseCommand):
    help = "Judge the active constraint's rules on a day's data (yesterday by default) and act."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--date", help="The data day to judge, YYYY-MM-DD (default: yesterday)")

    def handle(self, *args, date: str | None = None, **options) -> None:
        try:
            day = dt.date.fromisoformat(date) if date else yesterday()
        except ValueError as exc:
            raise CommandError(f"--date must be YYYY-MM-DD, got {date!r}.") from exc
        report = evaluate(day=day)
        self.stdout.write(report.summary())
        for rule, reason in report.skipped.items():
            self.stdout.write(f"  skipped '{rule}': {reason}")
        for decision in report.decisions:
            if decision.target != "*":
                self.stdout.write(
                    f"  {decision.get_status_display()}: {decision} {decision.reason}"
                )
