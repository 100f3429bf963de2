from django.core.management.base import BaseCommand, CommandParser

from constraints.alerts.delivery import send_alerts


class Command(BaseCommand):
    help = "Detect anomalies and send due alerts (and the weekly digest on its day)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Print what would be sent; send nothing."
        )
        parser.add_argument(
            "--digest",
            action="store_true",
            help="Send this week's digest now, whatever the policy's weekday (once a week).",
        )

    def handle(self, *args, dry_run: bool = False, digest: bool = False, **options) -> None:
        report = send_alerts(dry_run=dry_run, digest=digest)
        for line in report.lines or ["Nothing to send."]:
            self.stdout.write(line)
        if not dry_run:
            self.stdout.write(f"sent {report.sent}, held {report.held}, failed {report.failed}")
