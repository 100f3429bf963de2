"""Figures for the foundation: demo pull, metric export and /healthz over years of data.

    python benchmarks/foundation.py [--days 1095]

Runs on a scratch SQLite database (or BENCH_DATABASE_URL), never on yours, and prints one
line per figure.
"""

import argparse
import datetime as dt
import io
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
scratch = Path(tempfile.mkdtemp()) / "bench.sqlite3"
os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{scratch}")
os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "decisionhub.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

from constraints.demo import install_demo  # noqa: E402
from constraints.template_io import apply_template, export_template  # noqa: E402
from sources.models import Measure  # noqa: E402
from sources.pipeline import pull  # noqa: E402


def timed(label: str, func, *args, **kwargs):
    start = time.perf_counter()
    result = func(*args, **kwargs)
    print(f"{label}: {time.perf_counter() - start:.2f}s")
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=1095)
    days = parser.parse_args().days
    call_command("migrate", verbosity=0)
    until = dt.date.today() - dt.timedelta(days=1)
    timed("demo (200 days: template, source, pull)", install_demo, until=until)
    source = __import__("sources.models").models.Source.objects.get(key="demo")
    since = until - dt.timedelta(days=days - 1)
    timed(f"pull {days} days", pull, source=source, since=since, until=until)
    print(f"measures stored: {Measure.objects.count()}")
    out = io.StringIO()
    for window in (30, 365, days):
        first = (until - dt.timedelta(days=window - 1)).isoformat()
        timed(
            f"export_metrics csv, {window} days",
            call_command,
            "export_metrics",
            "--since",
            first,
            stdout=out,
        )
    timed(
        f"export_metrics --measures csv, {days} days",
        call_command,
        "export_metrics",
        "--since",
        since.isoformat(),
        "--measures",
        stdout=out,
    )
    data = timed("export_template", export_template)
    timed("apply_template (the export)", apply_template, data=data)
    timed("GET /healthz", Client(HTTP_HOST="127.0.0.1").get, "/healthz")


if __name__ == "__main__":
    main()
