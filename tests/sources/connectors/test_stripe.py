import datetime as dt

import pytest
from django.conf import settings
from responses import matchers

from sources.connectors import stripe
from sources.models import DeadLetter, Measure, SyncRun
from sources.pipeline import pull
from tests.conftest import make_source

DAY = dt.date(2026, 3, 10)
CHARGES = f"{settings.STRIPE_API_URL}/v1/charges"
NOON = int(dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC).timestamp())


def charge(cid, amount=10000, refunded=0, currency="usd", customer="cus_1", new=True, **extra):
    created = NOON if new else NOON - 90 * 86400
    return {
        "id": cid,
        "object": "charge",
        "amount": amount,
        "amount_captured": amount,
        "amount_refunded": refunded,
        "currency": currency,
        "created": NOON,
        "customer": {"id": customer, "object": "customer", "created": created},
        "paid": True,
        "status": "succeeded",
        "refunded": refunded == amount,
        **extra,
    }


def listing(data, has_more=False):
    return {"object": "list", "data": data, "has_more": has_more, "url": "/v1/charges"}


@pytest.fixture
def stripe_env(monkeypatch):
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_123")


def test_it_subtracts_refunds_and_knows_zero_decimal_currencies():
    frame, rejected = stripe.normalise(
        [charge("ch_1", 5000, refunded=1500, currency="jpy")], currency=None, since=DAY, until=DAY
    )
    assert not rejected
    assert frame.loc[frame["measure"] == "revenue", "value"].tolist() == [3500.0]
    frame, _ = stripe.normalise(
        [charge("ch_1", 5000, refunded=1500)], currency="usd", since=DAY, until=DAY
    )
    assert frame.loc[frame["measure"] == "revenue", "value"].tolist() == [35.0]


@pytest.mark.parametrize("currency", ["bhd", "jod", "kwd", "omr", "tnd"])
def test_it_reads_three_decimal_currencies_in_thousandths(currency):
    # 5.125 KWD is sent as 5125 (https://docs.stripe.com/currencies#three-decimal).
    frame, rejected = stripe.normalise(
        [charge("ch_1", 5120, refunded=1000, currency=currency)],
        currency=currency.upper(),
        since=DAY,
        until=DAY,
    )
    assert not rejected
    assert frame.loc[frame["measure"] == "revenue", "value"].tolist() == [4.12]


def test_it_rejects_charges_in_another_currency():
    frame, rejected = stripe.normalise(
        [charge("ch_1"), charge("ch_2", currency="eur")], currency="usd", since=DAY, until=DAY
    )
    assert [r.raw["id"] for r in rejected] == ["ch_2"]
    assert "currency eur" in rejected[0].reason


def test_it_counts_new_paying_customers_once_and_ignores_failed_charges():
    charges = [
        charge("ch_1", customer="cus_new"),
        charge("ch_2", customer="cus_new"),
        charge("ch_3", customer="cus_old", new=False),
        charge("ch_4", customer="cus_x", paid=False, status="failed"),
    ]
    frame, _ = stripe.normalise(charges, currency="usd", since=DAY, until=DAY)
    values = dict(zip(frame["measure"], frame["value"], strict=True))
    assert values == {"revenue": 300.0, "new_customers": 1}


@pytest.mark.django_db
def test_it_pages_with_starting_after(stripe_env, mocked):
    mocked.get(
        CHARGES,
        match=[matchers.query_param_matcher({"limit": "100"}, strict_match=False)],
        json=listing([charge("ch_1"), charge("ch_2")], has_more=True),
    )
    run_source = make_source("stripe")
    mocked.get(
        CHARGES,
        match=[matchers.query_param_matcher({"starting_after": "ch_2"}, strict_match=False)],
        json=listing([charge("ch_3", 2500)]),
    )
    run = pull(source=run_source, since=DAY, until=DAY)
    assert (run.status, run.pages) == (SyncRun.Status.SUCCEEDED, 2), run.error
    assert float(Measure.objects.get(name="revenue").value) == 225.0
    assert mocked.calls[0].request.headers["Authorization"] == "Bearer sk_test_123"
    assert "starting_after=ch_2" in mocked.calls[1].request.url


@pytest.mark.django_db
def test_it_fails_permanently_on_a_bad_key(stripe_env, mocked, slept):
    mocked.get(
        CHARGES,
        status=401,
        json={
            "error": {
                "type": "authentication_error",
                "code": "api_key_invalid",
                "message": "Invalid API Key provided: sk_test_***123",
            }
        },
    )
    run = pull(source=make_source("stripe"), since=DAY, until=DAY)
    assert run.status == SyncRun.Status.FAILED
    assert "authentication_error" in run.error and slept == []


@pytest.mark.django_db
def test_it_keeps_rejected_charges_as_dead_letters(stripe_env, mocked):
    mocked.get(CHARGES, json=listing([charge("ch_1"), charge("ch_2", currency="eur")]))
    run = pull(source=make_source("stripe", options={"currency": "usd"}), since=DAY, until=DAY)
    assert (run.rows_rejected, run.rows_received) == (1, 3)
    assert DeadLetter.objects.get().raw["id"] == "ch_2"


@pytest.mark.django_db
def test_a_day_without_charges_is_zero_revenue(stripe_env, mocked):
    mocked.get(CHARGES, json=listing([]))
    run = pull(source=make_source("stripe"), since=DAY, until=DAY)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert {(m.name, m.value) for m in Measure.objects.all()} == {
        ("revenue", 0),
        ("new_customers", 0),
    }
