"""Console log lines that never print a secret: one line per event, secrets redacted.

Tokens travel in headers and query strings that a careless exception message may echo, so
the formatter redacts, as a last line of defence, the value of every environment variable
whose name says it holds a secret.
"""

import logging
import os
import re

SECRET_NAME = re.compile(r"(TOKEN|SECRET|PASSWORD|API_KEY|WEBHOOK|DATABASE_URL|REDIS_URL)")
MIN_SECRET_LENGTH = 6
REDACTED = "[redacted]"


def secret_values(environ: dict[str, str] | None = None) -> list[str]:
    """Values of environment variables named like secrets, longest first."""
    environ = os.environ if environ is None else environ
    values = {
        v for k, v in environ.items() if SECRET_NAME.search(k) and len(v) >= MIN_SECRET_LENGTH
    }
    return sorted(values, key=len, reverse=True)


class OneLineFormatter(logging.Formatter):
    """Formats a record, traceback included, as one line with secrets redacted."""

    def __init__(self, *args, secrets: list[str] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.secrets = secret_values() if secrets is None else secrets

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text.replace("\r", "").replace("\n", " | ")
