import logging

import pytest

from sources import http

URL = "https://graph.example.com/v24.0/act_1/insights?access_token=SECRET-TOKEN&after=x"


def test_it_never_logs_or_reports_a_token(mocked, caplog):
    mocked.get(URL, status=503, body="busy")
    with caplog.at_level(logging.DEBUG), pytest.raises(http.HTTPError) as raised:
        http.request("GET", URL, headers={"Authorization": "Bearer SECRET-TOKEN"})
    assert "SECRET-TOKEN" not in caplog.text
    assert "SECRET-TOKEN" not in str(raised.value)
    assert "graph.example.com/v24.0/act_1/insights" in str(raised.value)


def test_it_counts_every_attempt_inside_a_block(mocked):
    mocked.get(URL, status=500, body="")
    mocked.get(URL, body="{}")
    with http.counting() as tally:
        http.request("GET", URL)
    assert tally.attempts == 2


def test_it_does_not_retry_a_permanent_error(mocked, slept):
    mocked.get(URL, status=401, body="")
    with pytest.raises(http.HTTPError) as raised:
        http.request("GET", URL)
    assert raised.value.permanent and slept == []


def test_it_keeps_a_secret_path_out_of_errors_and_logs(mocked, caplog, slept):
    hook = "https://hooks.slack.com/services/T000/B000/XXXXSECRET"
    mocked.post(hook, status=404, body="no_service")
    with caplog.at_level(logging.DEBUG), pytest.raises(http.HTTPError) as raised:
        http.request("POST", hook, json={}, secret_path=True)
    assert "XXXXSECRET" not in str(raised.value) and "XXXXSECRET" not in caplog.text
    assert str(raised.value).startswith("POST hooks.slack.com/…")
