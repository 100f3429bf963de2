"""The whole daily chain on the demo: pull, evaluate the template's rules, detect and alert."""

from django.core.management import call_command

from constraints import tasks
from constraints.models import Alert, Decision
from sources.models import SyncRun


def test_it_turns_the_demo_into_proposals_and_an_anomaly_alert(db, capsys):
    call_command("demo")
    tasks.daily_chain()
    assert not SyncRun.objects.filter(status=SyncRun.Status.FAILED).exists()
    proposals = Decision.objects.filter(status=Decision.Status.PROPOSED)
    # Each campaign is judged on its share of its channel's CRM customers (by platform
    # conversions), and the cut asks to be 90% sure. LinkedIn's Decision makers: about
    # $2,500 a customer on $5,200 (99% sure); its Retargeting as dear but on $2,500, one
    # customer or so (under 90% sure): not cut. Meta's two campaigns spent without a single
    # customer (no CAC, 94% and 99.9% sure). Google Ads claims a CPA under target, but its
    # CRM customers cost about $580, between the raise ($350) and the cut ($650): nothing is
    # proposed for it, and its platform-CPA rule ships switched off.
    lower = proposals.filter(rule__name="Lower budgets on campaigns whose customers cost too much")
    assert sorted(lower.values_list("target", flat=True)) == [
        "campaign:demo:23850001",
        "campaign:demo:23850002",
        "campaign:demo:51001",
    ]
    assert not Decision.objects.filter(target="campaign:demo:51002").exists()
    assert not Decision.objects.filter(target__startswith="campaign:demo:12").exists()
    assert not Decision.objects.filter(rule__name="Scale Google Ads when efficient").exists()
    anomaly = Alert.objects.filter(kind=Alert.Kind.ANOMALY).exclude(status="resolved")
    assert anomaly.filter(target__icontains="meta").exists(), list(anomaly.values("title"))


def test_running_it_twice_decides_nothing_new(db):
    call_command("demo")
    tasks.daily_chain()
    decisions, alerts = Decision.objects.count(), Alert.objects.count()
    tasks.daily_chain()
    assert (Decision.objects.count(), Alert.objects.count()) == (decisions, alerts)


def test_the_demo_command_alone_shows_the_first_mornings_proposals_and_anomaly(db):
    call_command("demo")
    assert Decision.objects.filter(status=Decision.Status.PROPOSED).exists()
    anomalies = Alert.objects.filter(kind=Alert.Kind.ANOMALY, target__icontains="meta")
    assert anomalies.exclude(status=Alert.Status.RESOLVED).exists()
