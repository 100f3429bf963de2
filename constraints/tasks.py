"""django-q2 jobs of decisionhub: thin, they load and call workflow functions.

The daily chain runs its steps in order: pull every source (catching up missed days), then
evaluate the rules, then send the alerts. Each step runs even when an earlier one raised (a
failed pull is recorded, never silently skipped); the first error is raised at the end so
django-q records the task as failed.
"""

import logging
from collections.abc import Callable

from constraints.alerts import delivery
from constraints.alerts.versions import alert_on_api_versions
from constraints.health import WORKER
from constraints.models import Heartbeat
from constraints.rules import evaluation
from constraints.rules.rejudge import rejudge
from constraints.schedules import ensure_schedules
from sources.days import yesterday
from sources.pipeline import pull_enabled

log = logging.getLogger(__name__)


def beat() -> None:
    """Stamp the worker heartbeat that /healthz reads."""
    Heartbeat.objects.stamp(WORKER)


def pull_sources() -> None:
    pull_enabled()
    alert_on_api_versions()


def evaluate_rules() -> None:
    """Judge yesterday's numbers (evaluate expires unanswered proposals first), then judge
    the last 30 days' decisions again on the numbers the pull just revised."""
    log.info("evaluate %s", evaluation.evaluate(day=yesterday()).summary())
    log.info("inputs revised: %d decisions marked", len(rejudge(day=yesterday())))


def send_alerts() -> None:
    report = delivery.send_alerts()
    log.info("alerts: %d sent, %d held, %d failed", report.sent, report.held, report.failed)


DAILY_STEPS: list[Callable[[], object]] = [pull_sources, evaluate_rules, send_alerts]


def daily_chain() -> list[str]:
    """Run DAILY_STEPS in order; return the names of the steps that ran."""
    ran, errors = [], []
    for step in DAILY_STEPS:
        try:
            step()
        except Exception as exc:  # the later steps must still run (alerts above all)
            log.exception("daily chain step %s failed", step.__name__)
            errors.append(exc)
        ran.append(step.__name__)
    # Re-anchor tomorrow's run on the local time of day (DST moves it otherwise).
    ensure_schedules()
    if errors:
        raise errors[0]
    return ran
