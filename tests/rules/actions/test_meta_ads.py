import pytest
import responses
from responses import matchers

from constraints.models import Decision, Rule
from constraints.rules.evaluation import Report, decide
from sources import http
from sources.models import Campaign, Source
from tests.rules_support import make_rule

GRAPH = "https://graph.facebook.com/v27.0"
ADSET = "23850001"
TARGET = f"campaign:meta:{ADSET}"
EXPIRED = {
    "error": {
        "message": "Error validating access token: Session has expired on Tuesday, "
        "24-Nov-26 10:00:00 PST.",
        "type": "OAuthException",
        "code": 190,
        "error_subcode": 463,
        "fbtrace_id": "AQ3xyzAbCdE",
    }
}


@pytest.fixture(autouse=True)
def token(monkeypatch):
    monkeypatch.setenv("META_ACCESS_TOKEN", "EAAB-token")
    monkeypatch.setattr(http, "sleep", lambda seconds: None)


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def adset(google, db):
    source = Source.objects.create(key="meta", name="Meta", kind="meta_ads", options={})
    return Campaign.objects.create(
        source=source, external_id=ADSET, name="Lookalike", channel=google
    )


def reads(rsps, daily_budget: str = "5000", status: str = "ACTIVE"):
    rsps.add(
        responses.GET,
        f"{GRAPH}/{ADSET}",
        json={"daily_budget": daily_budget, "status": status, "id": ADSET},
        match=[matchers.query_param_matcher({"fields": "daily_budget,status"})],
    )


def act(constraint, day, **fields) -> Decision:
    fields = {"mode": Rule.Mode.AUTOMATIC, **fields}
    rule = make_rule(
        constraint, {"metric_key": "cpa", "comparator": "gt", "threshold": 0}, **fields
    )
    return decide(
        rule=rule, target=TARGET, label="Lookalike", day=day, seen={}, report=Report(day=day)
    )


def test_it_lowers_a_daily_budget_in_minor_units(constraint, adset, day, rsps):
    reads(rsps)
    rsps.add(
        responses.POST,
        f"{GRAPH}/{ADSET}",
        json={"success": True},
        match=[matchers.urlencoded_params_matcher({"daily_budget": "3500"})],
    )
    decision = act(constraint, day, action=Rule.Action.LOWER_BUDGET, action_value=30)
    assert decision.status == Decision.Status.APPLIED
    assert (decision.before_value, decision.after_value) == (50, 35)
    assert decision.response == {"success": True}
    assert rsps.calls[1].request.headers["Authorization"] == "Bearer EAAB-token"


def test_it_uses_the_currency_offset_of_the_account(constraint, adset, day, rsps):
    adset.source.options = {"currency_offset": 1}  # JPY has no minor unit
    adset.source.save()
    reads(rsps, daily_budget="5001")
    rsps.add(
        responses.POST,
        f"{GRAPH}/{ADSET}",
        json={"success": True},
        match=[matchers.urlencoded_params_matcher({"daily_budget": "6001"})],
    )
    decision = act(constraint, day, action=Rule.Action.RAISE_BUDGET, action_value=20)
    assert decision.after_value == 6001  # 6001.2 rounded to whole yen


def test_it_resumes_a_paused_ad_set(constraint, adset, day, rsps):
    reads(rsps, status="PAUSED")
    rsps.add(
        responses.POST,
        f"{GRAPH}/{ADSET}",
        json={"success": True},
        match=[matchers.urlencoded_params_matcher({"status": "ACTIVE"})],
    )
    decision = act(constraint, day, action=Rule.Action.RESUME)
    assert (decision.status, decision.after_status) == (Decision.Status.APPLIED, "ACTIVE")


def test_it_skips_resuming_what_already_runs(constraint, adset, day, rsps):
    reads(rsps, status="ACTIVE")
    decision = act(constraint, day, action=Rule.Action.RESUME)
    assert decision.status == Decision.Status.SKIPPED
    assert "Already running" in decision.reason
    assert len(rsps.calls) == 1


def test_it_fails_permanently_on_an_expired_token(constraint, adset, day, rsps):
    rsps.add(responses.GET, f"{GRAPH}/{ADSET}", status=400, json=EXPIRED)
    decision = act(constraint, day, action=Rule.Action.PAUSE)
    assert decision.status == Decision.Status.FAILED
    assert "Meta access token expired or invalid (code 190)" in decision.reason
    assert decision.response["error"]["error_subcode"] == 463
    assert len(rsps.calls) == 1  # not retried, nothing sent


def test_it_reads_back_before_retrying_after_a_500(constraint, adset, day, rsps):
    state = {"budget": "5000"}
    rsps.add_callback(
        responses.GET,
        f"{GRAPH}/{ADSET}",
        callback=lambda r: (
            200,
            {},
            f'{{"daily_budget": "{state["budget"]}", "status": "ACTIVE"}}',
        ),
    )

    def applies_then_500(request):
        state["budget"] = "6000"
        return 500, {}, '{"error": {"message": "An unknown error occurred", "code": 1}}'

    rsps.add_callback(responses.POST, f"{GRAPH}/{ADSET}", callback=applies_then_500)
    decision = act(constraint, day, action=Rule.Action.RAISE_BUDGET, action_value=20)
    assert decision.status == Decision.Status.APPLIED
    assert len([c for c in rsps.calls if c.request.method == "POST"]) == 1
    assert state["budget"] == "6000"
