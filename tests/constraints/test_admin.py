import pytest
from django.contrib.auth import get_user_model

from constraints.models import Constraint
from sources.models import Channel, ChannelAlias

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_superuser("root", "", "pw-long-enough-1")
    client.force_login(user)
    return client


def metric_form(index: int, role: str) -> dict:
    prefix = f"metrics-{index}-"
    fields = {
        "position": index,
        "key": f"m{index}",
        "label": f"M{index}",
        "role": role,
        "unit": "currency",
        "direction": "lower",
        "target": "",
        "numerator": "spend",
        "denominator": "conversions",
        "scale": "1",
        "source_kinds": "[]",
    }
    return {prefix + name: value for name, value in fields.items()}


def constraint_post(roles: list[str]) -> dict:
    data = {
        "name": "CAC",
        "question": "What now?",
        "cadence": "daily",
        "metrics-TOTAL_FORMS": len(roles),
        "metrics-INITIAL_FORMS": 0,
        "metrics-MIN_NUM_FORMS": 0,
        "metrics-MAX_NUM_FORMS": 1000,
    }
    for index, role in enumerate(roles):
        data |= metric_form(index, role)
    return data


def test_it_saves_one_headline_and_three_drivers(admin_client):
    roles = ["headline", "driver", "driver", "driver"]
    response = admin_client.post("/admin/constraints/constraint/add/", constraint_post(roles))
    assert response.status_code == 302
    assert Constraint.objects.get().metrics.count() == 4


def test_an_operator_sets_the_campaigns_share_by_and_a_bad_one_is_explained(admin_client):
    form = admin_client.get("/admin/constraints/constraint/add/").content.decode()
    assert "Campaigns&#x27; share by" in form or "Campaigns' share by" in form
    data = constraint_post(["headline", "driver", "driver", "driver"])
    data["metrics-0-denominator"] = "customers"
    data["metrics-0-split_by"] = "customers"
    response = admin_client.post("/admin/constraints/constraint/add/", data)
    assert response.status_code == 200
    assert "customers is one of this metric" in response.content.decode()
    data["metrics-0-split_by"] = "conversions"
    response = admin_client.post("/admin/constraints/constraint/add/", data)
    assert response.status_code == 302
    assert Constraint.objects.get().headline.split_by == "conversions"


@pytest.mark.parametrize(
    ("roles", "message"),
    [
        (["driver", "driver", "driver"], "exactly one headline metric, has 0"),
        (["headline", "driver", "driver"], "exactly three driver metrics, has 2"),
        (["headline", "headline", "driver", "driver", "driver"], "one headline metric, has 2"),
    ],
)
def test_it_shows_a_clear_error_for_the_wrong_metrics(admin_client, roles, message):
    response = admin_client.post("/admin/constraints/constraint/add/", constraint_post(roles))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Constraint.objects.exists()


def test_it_activates_from_the_admin_and_reports_what_is_missing(admin_client):
    roles = ["headline", "driver", "driver", "driver"]
    admin_client.post("/admin/constraints/constraint/add/", constraint_post(roles))
    constraint = Constraint.objects.get()
    changelist = "/admin/constraints/constraint/"
    admin_client.post(changelist, {"action": "activate", "_selected_action": [constraint.pk]})
    constraint.refresh_from_db()
    assert constraint.status == Constraint.Status.ACTIVE
    constraint.metrics.filter(role="driver").first().delete()
    draft = Constraint.objects.create(name="Draft", question="?")
    response = admin_client.post(
        changelist, {"action": "activate", "_selected_action": [draft.pk]}, follow=True
    )
    assert "needs exactly one headline metric" in response.content.decode()
    assert Constraint.objects.active() == constraint


def test_it_edits_channel_aliases_and_refuses_a_duplicate_spelling(admin_client):
    channel = Channel.objects.create(key="google-ads", name="Google Ads")
    ChannelAlias.objects.create(channel=channel, alias="paid search")
    other = Channel.objects.create(key="bing", name="Bing")
    data = {
        "key": "bing",
        "name": "Bing",
        "aliases-TOTAL_FORMS": 1,
        "aliases-INITIAL_FORMS": 0,
        "aliases-MIN_NUM_FORMS": 0,
        "aliases-MAX_NUM_FORMS": 1000,
        "aliases-0-alias": "Paid  Search",
    }
    url = f"/admin/sources/channel/{other.pk}/change/"
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    data["aliases-0-alias"] = "Microsoft / CPC"
    assert admin_client.post(url, data).status_code == 302
    assert Channel.objects.resolve("microsoft / cpc") == other
