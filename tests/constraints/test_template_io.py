import copy
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from constraints import template_io
from constraints.models import Constraint, Rule
from constraints.template_io import (
    Section,
    TemplateError,
    apply_template,
    export_template,
    load_template,
)
from sources.models import Channel, Source

pytestmark = pytest.mark.django_db


def test_it_applies_cac_efficiency_as_the_issue_defines_it():
    constraint = apply_template(data=load_template("cac-efficiency"))
    assert constraint.status == Constraint.Status.ACTIVE
    headline = constraint.headline
    assert (headline.key, headline.numerator, headline.denominator) == (
        "blended_cac",
        "spend",
        "customers",
    )
    assert [m.key for m in constraint.drivers] == ["cpa", "conversion_rate", "lead_quality"]
    scale = constraint.rules.get(name="Scale Google Ads when efficient")
    assert (scale.mode, scale.action, scale.action_value) == ("approval", "raise_budget", 20)
    assert not scale.enabled  # the platform's CPA contradicted the CRM's customers
    assert list(scale.channels.values_list("key", flat=True)) == ["google-ads"]
    cpa = scale.conditions.get(metric_key="cpa")
    assert (cpa.comparator, cpa.threshold, cpa.window_days, cpa.min_sample) == ("lt", 47, 7, 20)


@pytest.mark.parametrize("name", ["cac-efficiency", "ltv-retention", "unit-economics"])
def test_it_reads_its_own_export_back_identically(name):
    built_in = load_template(name)
    apply_template(data=built_in)
    exported = export_template()
    for section in ("constraint", "metrics", "channels", "rules", "alert_policy"):
        assert exported[section] == built_in[section]
    apply_template(data=json.loads(template_io.dumps(exported)))
    assert export_template() == exported
    assert Constraint.objects.count() == 2


def test_it_archives_the_previous_constraint_with_its_history():
    first = apply_template(data=load_template("cac-efficiency"))
    second = apply_template(data=load_template("ltv-retention"))
    first.refresh_from_db()
    assert first.status == Constraint.Status.ARCHIVED and first.ended_on is not None
    rules = len(load_template("cac-efficiency")["rules"])
    assert first.metrics.count() == 4 and first.rules.count() == rules
    assert Constraint.objects.active() == second


def test_it_maps_every_raw_demo_channel_name_to_its_channel():
    apply_template(data=load_template("cac-efficiency"))
    expected = {
        "Google Ads": "google-ads",
        "google / cpc": "google-ads",
        "PAID_SEARCH": "google-ads",
        "Paid Search": "google-ads",
        "facebook / paid": "meta-ads",
        "PAID_SOCIAL": "meta-ads",
        "LINKEDIN": "linkedin-ads",
        "linkedin / paid": "linkedin-ads",
        "ORGANIC_SEARCH": "organic-search",
        "EMAIL_MARKETING": "email",
        "(direct) / (none)": "direct",
    }
    assert {raw: Channel.objects.resolve(raw).key for raw in expected} == expected


def test_it_creates_new_sources_disabled_and_keeps_an_existing_sources_switch():
    Source.objects.create(key="ga4", name="GA4", kind=Source.Kind.GA4, enabled=True)
    apply_template(data=load_template("cac-efficiency"))
    assert Source.objects.get(key="ga4").enabled
    assert not Source.objects.get(key="google-ads").enabled
    assert Source.objects.get(key="google-ads").channel.key == "google-ads"


def test_it_refuses_an_unknown_section_and_changes_nothing():
    data = load_template("cac-efficiency")
    data["alert_polcy"] = {}
    with pytest.raises(TemplateError, match="Unknown section.*alert_polcy"):
        apply_template(data=data)
    assert not Constraint.objects.exists() and not Channel.objects.exists()


def test_it_accepts_a_registered_section(monkeypatch):
    seen = []
    section = Section(
        name="alert_policy",
        export=lambda constraint: {"quiet": True},
        apply=lambda value, constraint: seen.append((value, constraint.name)),
    )
    monkeypatch.setitem(template_io.SECTIONS, "alert_policy", section)
    data = load_template("cac-efficiency")
    data["alert_policy"] = {"quiet": True}
    apply_template(data=data)
    assert seen == [({"quiet": True}, "CAC efficiency")]
    assert export_template()["alert_policy"] == {"quiet": True}


def test_it_refuses_a_newer_version():
    data = load_template("cac-efficiency")
    data["version"] = 99
    with pytest.raises(TemplateError, match="newer"):
        apply_template(data=data)


def test_it_refuses_two_drivers_and_keeps_the_active_constraint():
    active = apply_template(data=load_template("cac-efficiency"))
    data = load_template("ltv-retention")
    data["metrics"] = data["metrics"][:3]
    with pytest.raises(TemplateError, match="exactly three driver"):
        apply_template(data=data)
    assert Constraint.objects.active() == active
    assert Constraint.objects.count() == 1


def test_it_names_an_unknown_field_and_where_it_is():
    data = load_template("cac-efficiency")
    data["rules"][0]["conditions"][0]["treshold"] = 1
    with pytest.raises(
        TemplateError, match=r"rules\[0\]\.conditions\[0\]: unknown field.*treshold"
    ):
        apply_template(data=data)
    assert not Rule.objects.exists()


def test_it_judges_campaigns_on_their_share_of_the_crms_customers():
    constraint = apply_template(data=load_template("cac-efficiency"))
    assert constraint.headline.split_by == "conversions"
    budget_rules = constraint.rules.filter(enabled=True, action__endswith="_budget")
    assert {r.scope for r in budget_rules} == {Rule.Scope.CAMPAIGNS}
    acting = budget_rules.exclude(mode=Rule.Mode.DRY_RUN)
    assert {(r.action, r.cooldown_days) for r in acting} == {
        ("raise_budget", 21),
        ("lower_budget", 21),
    }
    assert budget_rules.get(action_value=50).mode == Rule.Mode.DRY_RUN  # halving
    raise_ = budget_rules.get(action="raise_budget").conditions.get()
    assert (raise_.comparator, raise_.threshold, raise_.window_days) == ("lt", 350, 21)
    assert budget_rules.get(action="raise_budget").action_value == 20
    assert (raise_.min_sample_measure, raise_.min_sample) == ("customers", 5)
    lower = budget_rules.get(action="lower_budget", action_value=10).conditions.get()
    assert (lower.comparator, lower.threshold, lower.window_days) == ("gt", 650, 21)
    assert lower.min_sample == 960


def test_it_names_a_split_by_that_makes_no_sense():
    data = copy.deepcopy(load_template("cac-efficiency"))
    data["metrics"][0]["split_by"] = "customers"
    with pytest.raises(TemplateError, match=r"metrics\[0\]: split_by: customers is one of"):
        apply_template(data=data)
    assert not Constraint.objects.exists()


def test_it_names_an_invalid_value():
    data = copy.deepcopy(load_template("cac-efficiency"))
    data["metrics"][1]["unit"] = "euros"
    with pytest.raises(TemplateError, match=r"metrics\[1\]: unit"):
        apply_template(data=data)


def test_the_commands_write_and_read_a_file(tmp_path):
    call_command("apply_template", "unit-economics")
    path = tmp_path / "mine.json"
    call_command("export_template", str(path))
    call_command("apply_template", str(path))
    assert Constraint.objects.active().name == "Unit economics"
    assert json.loads(path.read_text())["name"] == "unit-economics"


def test_the_command_lists_built_in_names_for_an_unknown_one():
    with pytest.raises(CommandError, match="cac-efficiency, ltv-retention, unit-economics"):
        call_command("apply_template", "cac-effciency")


def test_the_command_reports_broken_json(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"format": ')
    with pytest.raises(CommandError, match="not valid JSON"):
        call_command("apply_template", str(path))


def test_the_export_command_writes_to_stdout(capsys):
    apply_template(data=load_template("cac-efficiency"))
    call_command("export_template")
    assert json.loads(capsys.readouterr().out)["constraint"]["name"] == "CAC efficiency"


def test_the_export_command_needs_an_active_constraint():
    with pytest.raises(CommandError, match="no active constraint"):
        call_command("export_template")
