import io
import json

import pytest
from django.contrib.auth.models import Group, User

from constraints.models import Constraint, Decision
from constraints.template_io import apply_template, export_template, load_template
from tests.factories import cac_constraint, demo_data, rules_and_decisions


def user_in(group: str) -> User:
    user = User.objects.create_user(username=group.lower(), password="pw")
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def operator(client, db):
    client.force_login(user_in("Operator"))
    return client


@pytest.fixture
def switched(db) -> dict:
    """CAC efficiency with demo numbers and decisions, then switched to LTV retention."""
    old = cac_constraint()
    demo_data(days=40)
    decisions = rules_and_decisions(old)
    new = apply_template(data=load_template("ltv-retention"))
    return {"old": Constraint.objects.get(pk=old.pk), "new": new, **decisions}


def test_it_previews_a_built_in_template_and_what_switching_archives(operator, db):
    old = cac_constraint()
    rules_and_decisions(old)
    text = operator.get("/constraints/switch/?template=ltv-retention").content.decode()
    assert "Preview: LTV and retention" in text
    assert "LTV to CAC" in text and "Revenue per customer" in text
    assert "secrets missing: STRIPE_API_KEY" in text
    assert "3 enabled rules disabled: Scale efficient search, Trim" in text
    assert "1 pending proposal expires" in text
    assert old.rules.filter(enabled=True).count() == 3  # previewing changed nothing
    assert Constraint.objects.active() == old


def test_it_switches_when_confirmed(operator, db):
    old = cac_constraint()
    proposal = rules_and_decisions(old)["proposed"]
    response = operator.post(
        "/constraints/switch/confirm/", {"template": "ltv-retention"}, follow=True
    )
    assert "LTV and retention is now the active constraint" in response.content.decode()
    assert "Evaluated at once" in response.content.decode()
    assert Decision.objects.get(pk=proposal.pk).status == Decision.Status.EXPIRED


def test_it_previews_and_applies_an_uploaded_file(operator, db):
    apply_template(data=load_template("unit-economics"))
    document = export_template()
    document["constraint"]["name"] = "Uploaded economics"
    upload = io.BytesIO(json.dumps(document).encode())
    upload.name = "ours.json"
    response = operator.post("/constraints/switch/", {"template_file": upload})
    text = response.content.decode()
    assert "Preview: Uploaded economics" in text
    sent = response.context["document"]
    operator.post("/constraints/switch/confirm/", {"document": sent})
    assert Constraint.objects.active().name == "Uploaded economics"


def test_it_says_why_an_uploaded_file_cannot_be_applied(operator, db):
    document = load_template("cac-efficiency")
    document["metrics"] = document["metrics"][:2]
    upload = io.BytesIO(json.dumps(document).encode())
    upload.name = "short.json"
    text = operator.post("/constraints/switch/", {"template_file": upload}).content.decode()
    assert "This template cannot be applied." in text and "Unknown metric" in text
    assert not Constraint.objects.exists()


def test_it_refuses_the_switch_page_to_an_approver(client, db):
    client.force_login(user_in("Approver"))
    assert client.get("/constraints/switch/").status_code == 403
    assert (
        client.post("/constraints/switch/confirm/", {"template": "cac-efficiency"}).status_code
        == 403
    )
    assert not Constraint.objects.exists()


def test_it_lists_every_constraint_with_its_period(operator, switched):
    text = operator.get("/constraints/").content.decode()
    assert "CAC efficiency" in text and "LTV and retention" in text
    assert text.count("– now") == 1 and "Archived" in text


def test_it_shows_an_archived_constraint_read_only_with_its_decisions(operator, switched):
    text = operator.get(f"/constraints/{switched['old'].pk}/").content.decode()
    assert "Archived · read-only." in text
    assert "Blended CAC" in text and "Scale efficient search" in text
    assert "Expired" in text and "Approve" not in text


def test_an_archived_constraints_driver_charts_keep_their_channel_legend(operator, switched):
    text = operator.get(f"/constraints/{switched['old'].pk}/").content.decode()
    legend = text.split('<ul class="chart-legend"')[1].split("</ul>")[0]
    assert 'data-channel="google-ads"' in legend and "Google Ads</li>" in legend


def test_it_reactivates_an_archived_constraint_keeping_both_periods(operator, switched):
    old = switched["old"]
    response = operator.post(f"/constraints/{old.pk}/activate/", follow=True)
    assert "CAC efficiency is now the active constraint." in response.content.decode()
    assert "Rules turned back on:" in response.content.decode()
    assert Constraint.objects.active() == old and old.periods.count() == 2
    text = operator.get("/constraints/").content.decode()
    assert text.count("– now") == 1


def test_it_refuses_reactivating_to_an_approver(client, switched):
    client.force_login(user_in("Approver"))
    assert client.post(f"/constraints/{switched['old'].pk}/activate/").status_code == 403
    assert Constraint.objects.active() == switched["new"]
