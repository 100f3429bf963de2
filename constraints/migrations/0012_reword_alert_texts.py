"""Write again, in the metric's unit, the texts of alerts stored before Metric.format was the
one formatter (constraints/alerts/rewording.py). Reads and writes the historical models;
only the wording comes from today's code, on unsaved Metric objects built from the rows."""

from django.db import migrations
from django.db.models import Q

METRIC_FIELDS = ("key", "label", "unit", "direction", "target")


def reword_alert_texts(apps, schema_editor):
    from constraints.alerts.rewording import reworded
    from constraints.models import Metric

    Alert = apps.get_model("constraints", "Alert")
    Decision = apps.get_model("constraints", "Decision")
    HistoricalMetric = apps.get_model("constraints", "Metric")
    Channel = apps.get_model("sources", "Channel")
    channels = dict(Channel.objects.values_list("key", "name"))

    def metrics_of(constraint_id) -> dict:
        rows = HistoricalMetric.objects.filter(constraint_id=constraint_id).values(*METRIC_FIELDS)
        return {row["key"]: Metric(**row) for row in rows}

    Constraint = apps.get_model("constraints", "Constraint")
    by_constraint = {}
    for alert in Alert.objects.filter(kind__in=["anomaly", "rule"]).only(
        "kind", "title", "body", "data"
    ):
        constraint_id = _constraint_of(alert, Decision=Decision, Constraint=Constraint)
        if constraint_id not in by_constraint:
            by_constraint[constraint_id] = metrics_of(constraint_id)
        texts = reworded(kind=alert.kind, title=alert.title, data=alert.data or {},
                         metrics=by_constraint[constraint_id], channels=channels)  # fmt: skip
        if texts and texts != (alert.title, alert.body):
            Alert.objects.filter(pk=alert.pk).update(title=texts[0], body=texts[1])


def _constraint_of(alert, *, Decision, Constraint):
    """A rule alert's constraint is its decision's rule's; an anomaly's, the one active on
    the anomaly's day (else the active one)."""
    data = alert.data or {}
    if alert.kind == "rule":
        found = Decision.objects.filter(pk=data.get("decision") or 0)
        return found.values_list("rule__constraint_id", flat=True).first()
    day, found = data.get("day"), None
    if day:
        running = Q(ended_on__isnull=True) | Q(ended_on__gte=day)
        on_the_day = Constraint.objects.filter(running, started_on__lte=day)
        found = on_the_day.order_by("-started_on").first()
    found = found or Constraint.objects.filter(status="active").first()
    return found.pk if found else None


class Migration(migrations.Migration):
    dependencies = [("constraints", "0011_merge_20261201_2355"), ("sources", "0001_initial")]

    operations = [migrations.RunPython(reword_alert_texts, migrations.RunPython.noop)]
