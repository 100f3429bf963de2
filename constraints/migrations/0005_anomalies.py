from decimal import Decimal

from django.db import migrations, models

OLD = {"anomaly_threshold": Decimal(4), "anomaly_min_volume": Decimal(3)}
NEW = {"anomaly_threshold": Decimal(3), "anomaly_min_volume": Decimal(20)}


def move_defaults(before: dict, after: dict):
    """A policy still at the old defaults gets the new ones: the score changed meaning (a
    count-aware tail probability), so the old numbers no longer say what they said."""

    def run(apps, schema_editor):
        apps.get_model("constraints", "AlertPolicy").objects.filter(**before).update(**after)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("constraints", "0004_alerts"),
    ]

    operations = [
        migrations.AlterField(
            model_name="alertpolicy",
            name="anomaly_min_volume",
            field=models.DecimalField(
                decimal_places=2,
                default=20,
                help_text=(
                    "Ignore a channel on weekdays when it usually counts fewer events than "
                    "this: the smaller of the metric's numerator and denominator, e.g. "
                    "conversions for a conversion rate or a cost per acquisition. Below ~20 a "
                    "day even a doubling is mostly lost in counting noise."
                ),
                max_digits=14,
            ),
        ),
        migrations.AlterField(
            model_name="alertpolicy",
            name="anomaly_threshold",
            field=models.DecimalField(
                decimal_places=2,
                default=3,
                help_text=(
                    "How unusual a day must be to raise an anomaly, in standard deviations: "
                    "how far its count lies from the same weekday's usual count over 8 weeks, "
                    "allowing for counting noise and the channel's own day-to-day noise. 3 is "
                    "about one false alert per channel a year. Higher means fewer alerts."
                ),
                max_digits=5,
            ),
        ),
        migrations.RunPython(move_defaults(OLD, NEW), move_defaults(NEW, OLD)),
    ]
