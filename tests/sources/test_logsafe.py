import logging
import sys

from sources.logsafe import REDACTED, OneLineFormatter, secret_values


def record(message: str, *, exc_info=None) -> logging.LogRecord:
    return logging.LogRecord("x", logging.ERROR, __file__, 1, message, (), exc_info)


def test_it_finds_secrets_by_variable_name():
    environ = {
        "META_ACCESS_TOKEN": "EAAB-secret-token",
        "STRIPE_API_KEY": "sk_live_abcdef",
        "GA4_PROPERTY_ID": "123456789",
        "HOME": "/root",
    }
    assert secret_values(environ) == ["EAAB-secret-token", "sk_live_abcdef"]


def test_it_redacts_secrets_and_keeps_a_traceback_on_one_line():
    formatter = OneLineFormatter("%(levelname)s %(message)s", secrets=["sk_live_abcdef"])
    try:
        raise ValueError("bad key sk_live_abcdef\nsecond line")
    except ValueError:
        line = formatter.format(record("pull failed", exc_info=sys.exc_info()))
    assert "\n" not in line
    assert "sk_live_abcdef" not in line and REDACTED in line
    assert line.startswith("ERROR pull failed | Traceback")
