"""The plan the database would use for a query the code ran: to check that a hot query reads
its index and not the table's whole history (a test cannot time it, a plan it can check).

Imported by the test modules that check plans (kept out of conftest.py to keep merges simple).
"""

from collections.abc import Callable

from django.db import connection
from django.test.utils import CaptureQueriesContext


def queries_of(call: Callable[[], object], *, table: str) -> list[str]:
    """The SQL (with its parameters) that `call` ran against `table`."""
    with CaptureQueriesContext(connection) as captured:
        call()
    return [q["sql"] for q in captured.captured_queries if table in q["sql"]]


def plan_of(sql: str) -> str:
    """The database's plan for `sql`, as text. PostgreSQL is told to avoid sequential scans
    whenever it can, so that a test table of a few rows gets the plan a big one would."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
            return "\n".join(str(row[-1]) for row in cursor.fetchall())
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def uses_index(sql: str, index: str) -> bool:
    return index in plan_of(sql)


def sorts(sql: str) -> bool:
    """Whether the plan sorts rows (a sort over history grows with it)."""
    plan = plan_of(sql)
    return "TEMP B-TREE" in plan or "Sort" in plan
