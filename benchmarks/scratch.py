"""What every benchmark shares: a scratch database, a throwaway secret, Django set up.

With no settings a benchmark runs on a fresh SQLite file in a temporary directory (WAL mode,
as deployed). With `--database-url postgres://…/NAME` it runs on a scratch database named
NAME_<benchmark>, created fresh (replaced if it exists) and dropped afterwards: the named
database itself is never touched. Nothing is read from the environment but the URL given.
"""

import argparse
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def parser(doc: str) -> argparse.ArgumentParser:
    """An argument parser whose --help is the benchmark's docstring, with --database-url."""
    first, _, rest = doc.strip().partition("\n")
    parsed = argparse.ArgumentParser(
        description=first, epilog=rest, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parsed.add_argument(
        "--database-url",
        help="a PostgreSQL server to run on (postgres://user@host:port/NAME: the scratch "
        "database is NAME_<benchmark>); default: a temporary SQLite file",
    )
    return parsed


@contextmanager
def scratch_database(name: str, database_url: str | None) -> Iterator[str]:
    """Set Django up on a fresh scratch database for benchmark `name`; yield its name."""
    with tempfile.TemporaryDirectory(prefix=f"{name}-bench-") as tmp:
        os.environ["DATABASE_URL"] = database_url or f"sqlite:///{tmp}/{name}.sqlite3"
        os.environ["SECRET_KEY"] = "benchmark-only-throwaway-secret"
        os.environ["DJANGO_SETTINGS_MODULE"] = "decisionhub.settings"
        os.environ.setdefault("LOG_LEVEL", "WARNING")
        # Django's test client, without the test environment's template instrumentation
        # (it copies every template context for inspection, which production never does).
        os.environ["ALLOWED_HOSTS"] = "testserver"
        # Static files named and compressed as deployed (the page looks its names up in the
        # manifest that collectstatic writes), into the temporary directory.
        os.environ["STATIC_ROOT"] = f"{tmp}/static"
        sys.path.insert(0, str(ROOT))
        import django
        from django.core.management import call_command

        django.setup()
        call_command("collectstatic", interactive=False, verbosity=0)
        from django.db import connection

        settings = connection.settings_dict
        if connection.vendor == "sqlite":
            settings["TEST"]["NAME"] = settings["NAME"]
        else:
            settings["TEST"]["NAME"] = f"{settings['NAME']}_{name}"
        original = settings["NAME"]
        scratch = connection.creation.create_test_db(verbosity=0, autoclobber=True)
        try:
            yield scratch
        finally:
            connection.creation.destroy_test_db(original, verbosity=0)


def times_ms(fn, runs: int) -> list[float]:
    """The wall times of `runs` calls after one warm-up call, in milliseconds."""
    import time

    fn()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return times


def median_ms(fn, runs: int) -> float:
    """The median of `times_ms`."""
    import statistics

    return statistics.median(times_ms(fn, runs))


def best_ms(fn, runs: int) -> float:
    """The fastest of `times_ms`: on a shared machine the load only ever adds time, so the
    fastest run is the least disturbed one."""
    return min(times_ms(fn, runs))
