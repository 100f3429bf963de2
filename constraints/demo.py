"""The demo: the cac-efficiency template fed by the `demo` source through the real pipeline."""

import datetime as dt

from constraints.models import Constraint
from constraints.template_io import apply_template, load_template
from sources.days import each_day
from sources.models import Source, SyncRun
from sources.pipeline import pull

DEMO_TEMPLATE = "cac-efficiency"
DEMO_SOURCE_KEY = "demo"
DEMO_DAYS = 200


def install_demo(*, until: dt.date) -> SyncRun | None:
    """Apply the demo template (unless a constraint is already active), create the demo
    source (its options fixed now, so its data never changes) and pull the days of the
    DEMO_DAYS ending `until` that no successful run has covered yet.

    Returns the run, or None when every day was already there: running it twice is harmless.
    """
    if Constraint.objects.active() is None:
        apply_template(data=load_template(DEMO_TEMPLATE))
    source = demo_source(until=until)
    since = first_missing_day(
        source=source, since=until - dt.timedelta(days=DEMO_DAYS - 1), until=until
    )
    if since is None:
        return None
    return pull(source=source, since=since, until=until)


def demo_source(*, until: dt.date) -> Source:
    source, _ = Source.objects.get_or_create(
        key=DEMO_SOURCE_KEY,
        defaults={
            "name": "Demo data",
            "kind": Source.Kind.DEMO,
            "enabled": True,
            "options": demo_options(until=until),
        },
    )
    return source


def demo_options(*, until: dt.date) -> dict:
    """Dates relative to the first run: a trend start, one missing day, a few anomalies
    (raw platform channel names, as the demo connector expects), one of them this week."""

    def ago(days: int) -> str:
        return (until - dt.timedelta(days=days)).isoformat()

    return {
        "start": ago(DEMO_DAYS - 1),
        "missing_days": [ago(40)],
        "anomalies": [
            # Meta's conversion tracking breaks: CPA on Meta triples the day before yesterday.
            {"date": ago(2), "channel": "Meta Ads", "measure": "conversions", "factor": 0.3},
            # A budget typo on Google Ads.
            {"date": ago(60), "channel": "Google Ads", "measure": "spend", "factor": 2.5},
            # An analytics outage on organic traffic.
            {"date": ago(120), "channel": "Organic Search", "measure": "sessions", "factor": 0.45},
        ],
    }


def first_missing_day(*, source: Source, since: dt.date, until: dt.date) -> dt.date | None:
    """The first day of since..until that no successful run of the source covered."""
    runs = source.runs.filter(status=SyncRun.Status.SUCCEEDED, until__gte=since, since__lte=until)
    spans = list(runs.values_list("since", "until"))
    for day in each_day(since, until):
        if not any(start <= day <= end for start, end in spans):
            return day
    return None
