from django.core.management.base import BaseCommand, CommandError

from constraints import tasks
from constraints.demo import install_demo
from constraints.models import Constraint
from constraints.template_io import TemplateError
from sources.days import yesterday
from sources.models import SyncRun


class Command(BaseCommand):
    help = "Set up the demo: cac-efficiency with 200 days of demo data ending yesterday."

    def handle(self, *args, **options) -> None:
        try:
            run = install_demo(until=yesterday())
        except TemplateError as exc:
            raise CommandError(str(exc)) from exc
        if run is None:
            self.stdout.write("Demo data already up to date; nothing changed.")
        elif run.status != SyncRun.Status.SUCCEEDED:
            raise CommandError(f"Demo pull failed: {run.error}")
        else:
            self.stdout.write(f"Pulled {run.since}..{run.until}: {run.rows_stored} measures.")
        self.stdout.write(f"Active constraint: {Constraint.objects.active()}.")
        # The first morning: judge yesterday and look for anomalies, as the daily chain does,
        # so a newcomer sees proposals and alerts at once. Both are idempotent.
        tasks.evaluate_rules()
        tasks.send_alerts()
