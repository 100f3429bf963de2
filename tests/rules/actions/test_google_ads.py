import datetime as dt
import json

import pytest
import requests
import responses
from django.utils import timezone

from constraints.models import ActionSwitch, Alert, Decision, Rule
from constraints.rules.evaluation import Report, decide
from sources import google_oauth, http
from tests.rules_support import google_campaign, make_rule

TOKEN_URL = "https://oauth2.googleapis.com/token"
API = "https://googleads.googleapis.com/v26/customers/1234567890"
TARGET = "campaign:google_ads:456"


class FakeGoogleAds:
    """A campaign with a budget in micros, answering the documented REST shapes."""

    def __init__(self, rsps: responses.RequestsMock, micros: int = 50_000_000) -> None:
        self.micros, self.status, self.mutates = micros, "ENABLED", []
        rsps.add(
            responses.POST,
            TOKEN_URL,
            json={"access_token": "ya29.a0token", "expires_in": 3599, "token_type": "Bearer"},
        )
        rsps.add_callback(responses.POST, f"{API}/googleAds:search", callback=self.search)
        rsps.add_callback(responses.POST, f"{API}/campaignBudgets:mutate", callback=self.budget)
        rsps.add_callback(responses.POST, f"{API}/campaigns:mutate", callback=self.campaign)

    def search(self, request):
        row = {
            "campaign": {
                "resourceName": "customers/1234567890/campaigns/456",
                "status": self.status,
                "id": "456",
            },
            "campaignBudget": {
                "resourceName": "customers/1234567890/campaignBudgets/789",
                "amountMicros": str(self.micros),
            },
        }
        mask = "campaign.id,campaign.status,campaignBudget.resourceName,campaignBudget.amountMicros"
        return 200, {}, json.dumps({"results": [row], "fieldMask": mask})

    def budget(self, request):
        operation = json.loads(request.body)["operations"][0]
        self.mutates.append(operation)
        self.micros = int(operation["update"]["amountMicros"])
        return (
            200,
            {},
            json.dumps({"results": [{"resourceName": operation["update"]["resourceName"]}]}),
        )

    def campaign(self, request):
        operation = json.loads(request.body)["operations"][0]
        self.mutates.append(operation)
        self.status = operation["update"]["status"]
        return (
            200,
            {},
            json.dumps({"results": [{"resourceName": operation["update"]["resourceName"]}]}),
        )


@pytest.fixture(autouse=True)
def credentials(monkeypatch):
    for name, value in {
        "GOOGLE_ADS_DEVELOPER_TOKEN": "dev-token",
        "GOOGLE_ADS_CLIENT_ID": "client",
        "GOOGLE_ADS_CLIENT_SECRET": "secret",
        "GOOGLE_ADS_REFRESH_TOKEN": "refresh",
        "GOOGLE_ADS_LOGIN_CUSTOMER_ID": "111-222-3333",
    }.items():
        monkeypatch.setenv(name, value)
    google_oauth.forget_tokens()
    delays = []
    monkeypatch.setattr(http, "sleep", delays.append)
    yield delays
    google_oauth.forget_tokens()


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def campaign(google):
    return google_campaign(google)


def act(constraint, day, **fields) -> Decision:
    fields = {"mode": Rule.Mode.AUTOMATIC, "action": Rule.Action.RAISE_BUDGET, **fields}
    rule = make_rule(
        constraint, {"metric_key": "cpa", "comparator": "gt", "threshold": 0}, **fields
    )
    if "action_value" not in fields and rule.changes_budget:
        rule.action_value = 20
        rule.save()
    return decide(
        rule=rule, target=TARGET, label="Search", day=day, seen={}, report=Report(day=day)
    )


def test_it_raises_a_budget_by_a_percentage_in_micros(constraint, campaign, day, rsps):
    fake = FakeGoogleAds(rsps)
    decision = act(constraint, day)
    assert fake.mutates == [
        {
            "update": {
                "resourceName": "customers/1234567890/campaignBudgets/789",
                "amountMicros": "60000000",
            },
            "updateMask": "amountMicros",
        }
    ]
    assert decision.status == Decision.Status.APPLIED
    assert (decision.before_value, decision.after_value) == (50, 60)
    assert decision.response["budget"]["results"][0]["resourceName"].endswith("/789")
    sent = [c.request for c in rsps.calls if c.request.url.endswith(":mutate")][0]
    assert sent.headers["developer-token"] == "dev-token"
    assert sent.headers["login-customer-id"] == "1112223333"
    assert sent.headers["Authorization"] == "Bearer ya29.a0token"


def test_it_rounds_to_whole_cents(constraint, campaign, day, rsps):
    fake = FakeGoogleAds(rsps, micros=33_330_000)
    decision = act(constraint, day)
    assert decision.after_value == pytest.approx(40.00)  # 33.33 × 1.2 = 39.996
    assert fake.mutates[0]["update"]["amountMicros"] == "40000000"


def test_it_keeps_to_the_ceiling(constraint, campaign, day, rsps):
    fake = FakeGoogleAds(rsps)
    decision = act(constraint, day, budget_ceiling=55)
    assert decision.after_value == 55
    assert fake.micros == 55_000_000


def test_it_skips_when_the_ceiling_is_reached(constraint, campaign, day, rsps):
    fake = FakeGoogleAds(rsps)
    decision = act(constraint, day, budget_ceiling=50)
    assert decision.status == Decision.Status.SKIPPED
    assert "ceiling 50" in decision.reason
    assert decision.before_value == 50
    assert fake.mutates == []


def test_it_pauses_a_campaign(constraint, campaign, day, rsps):
    fake = FakeGoogleAds(rsps)
    decision = act(constraint, day, action=Rule.Action.PAUSE)
    assert fake.mutates == [
        {
            "update": {"resourceName": "customers/1234567890/campaigns/456", "status": "PAUSED"},
            "updateMask": "status",
        }
    ]
    assert (decision.before_status, decision.after_status) == ("ENABLED", "PAUSED")


def test_it_applies_once_when_decided_twice(constraint, campaign, day, rsps):
    fake = FakeGoogleAds(rsps)
    first = act(constraint, day)
    rule = first.rule
    again = decide(rule=rule, target=TARGET, label="", day=day, seen={}, report=Report(day=day))
    assert again.pk == first.pk
    assert len(fake.mutates) == 1 and fake.micros == 60_000_000


def test_it_fails_after_500s_on_the_mutate_without_changing_anything(
    constraint, campaign, day, rsps, credentials
):
    fake = FakeGoogleAds(rsps)
    rsps.replace(
        responses.POST,
        f"{API}/campaignBudgets:mutate",
        status=500,
        json={
            "error": {"code": 500, "message": "Internal error encountered.", "status": "INTERNAL"}
        },
    )
    decision = act(constraint, day)
    mutates = [c for c in rsps.calls if c.request.url.endswith("campaignBudgets:mutate")]
    assert decision.status == Decision.Status.FAILED
    assert "HTTP 500" in decision.reason and "3 attempts" in decision.reason
    assert decision.response["error"]["status"] == "INTERNAL"
    assert len(mutates) == 3 and len(credentials) == 2  # read back before each new attempt
    assert fake.micros == 50_000_000
    assert Alert.objects.get(kind=Alert.Kind.ACTION).severity == Alert.Severity.CRITICAL


def test_it_reads_back_after_a_timeout_that_reached_the_platform(constraint, campaign, day, rsps):
    fake = FakeGoogleAds(rsps)

    def applies_then_times_out(request):
        fake.budget(request)
        raise requests.exceptions.ReadTimeout("read timed out")

    rsps.replace(responses.POST, f"{API}/campaignBudgets:mutate", body=b"")
    rsps.remove(responses.POST, f"{API}/campaignBudgets:mutate")
    rsps.add_callback(responses.POST, f"{API}/campaignBudgets:mutate", applies_then_times_out)
    decision = act(constraint, day)
    assert decision.status == Decision.Status.APPLIED
    assert "Confirmed by reading the platform back" in decision.reason
    assert len(fake.mutates) == 1 and fake.micros == 60_000_000  # not 72


def test_it_resumes_an_interrupted_send_by_reading_back_first(constraint, campaign, day, rsps):
    fake = FakeGoogleAds(rsps, micros=60_000_000)  # the lost send did reach Google
    rule = make_rule(
        constraint,
        {"metric_key": "cpa", "comparator": "gt", "threshold": 0},
        mode=Rule.Mode.AUTOMATIC,
        action=Rule.Action.RAISE_BUDGET,
        action_value=20,
    )
    Decision.objects.create(
        rule=rule,
        target=TARGET,
        period=day,
        idempotency_key=Decision.key_for(rule=rule, target=TARGET, period=day),
        params=rule.params(),
        status=Decision.Status.SENT,
        before_value=50,
        after_value=60,
        attempts=1,
    )
    Decision.objects.update(updated_at=timezone.now() - dt.timedelta(hours=1))  # interrupted
    decision = decide(rule=rule, target=TARGET, label="", day=day, seen={}, report=Report(day=day))
    assert decision.status == Decision.Status.APPLIED
    assert fake.mutates == []


def test_it_fails_permanently_when_the_refresh_token_expired(constraint, campaign, day, rsps):
    rsps.add(
        responses.POST,
        TOKEN_URL,
        status=400,
        json={"error": "invalid_grant", "error_description": "Token has been expired or revoked."},
    )
    decision = act(constraint, day)
    assert decision.status == Decision.Status.FAILED
    assert "Token has been expired or revoked" in decision.reason
    assert [c.request.url for c in rsps.calls] == [TOKEN_URL]


def test_it_does_not_retry_a_rejected_access_token(constraint, campaign, day, rsps):
    fake = FakeGoogleAds(rsps)
    rsps.replace(
        responses.POST,
        f"{API}/campaignBudgets:mutate",
        status=401,
        json={
            "error": {
                "code": 401,
                "message": "Request had invalid authentication credentials.",
                "status": "UNAUTHENTICATED",
            }
        },
    )
    decision = act(constraint, day)
    assert decision.status == Decision.Status.FAILED
    assert "expired or revoked" in decision.reason
    assert len([c for c in rsps.calls if c.request.url.endswith(":mutate")]) == 1
    assert fake.micros == 50_000_000


def test_it_sends_nothing_while_the_kill_switch_is_on(constraint, campaign, day, rsps):
    FakeGoogleAds(rsps)
    ActionSwitch.objects.create(actions_stopped=True)
    decision = act(constraint, day)
    assert decision.status == Decision.Status.SKIPPED
    assert decision.reason.startswith("Kill switch on")
    assert len(rsps.calls) == 0


def test_it_fails_clearly_without_credentials(constraint, campaign, day, rsps, monkeypatch):
    monkeypatch.delenv("GOOGLE_ADS_DEVELOPER_TOKEN")
    FakeGoogleAds(rsps)
    decision = act(constraint, day)
    assert decision.status == Decision.Status.FAILED
    assert "GOOGLE_ADS_DEVELOPER_TOKEN is not set" in decision.reason


def test_it_does_not_overwrite_a_budget_changed_by_someone_else(constraint, campaign, day, rsps):
    fake = FakeGoogleAds(rsps, micros=75_000_000)  # a person set 75 after the lost send
    rule = make_rule(
        constraint,
        {"metric_key": "cpa", "comparator": "gt", "threshold": 0},
        mode=Rule.Mode.AUTOMATIC,
        action=Rule.Action.RAISE_BUDGET,
        action_value=20,
    )
    Decision.objects.create(
        rule=rule,
        target=TARGET,
        period=day,
        idempotency_key=Decision.key_for(rule=rule, target=TARGET, period=day),
        params=rule.params(),
        status=Decision.Status.SENT,
        before_value=50,
        after_value=60,
        attempts=1,
    )
    Decision.objects.update(updated_at=timezone.now() - dt.timedelta(hours=1))  # interrupted
    decision = decide(rule=rule, target=TARGET, label="", day=day, seen={}, report=Report(day=day))
    assert decision.status == Decision.Status.FAILED
    assert "changed outside decisionhub" in decision.reason
    assert fake.mutates == [] and fake.micros == 75_000_000


def test_it_leaves_a_send_in_progress_to_its_worker(constraint, campaign, day, rsps):
    fake = FakeGoogleAds(rsps)
    rule = make_rule(
        constraint,
        {"metric_key": "cpa", "comparator": "gt", "threshold": 0},
        mode=Rule.Mode.AUTOMATIC,
        action=Rule.Action.RAISE_BUDGET,
        action_value=20,
    )
    Decision.objects.create(
        rule=rule,
        target=TARGET,
        period=day,
        idempotency_key=Decision.key_for(rule=rule, target=TARGET, period=day),
        params=rule.params(),
        status=Decision.Status.SENT,
        before_value=50,
        after_value=60,
        attempts=1,
    )
    decision = decide(rule=rule, target=TARGET, label="", day=day, seen={}, report=Report(day=day))
    assert decision.status == Decision.Status.SENT and decision.attempts == 1
    assert len(rsps.calls) == 0 and fake.mutates == []
