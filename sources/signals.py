"""What the sources app tells the rest of the project. `constraints` listens; `sources` never
imports it.

- sync_failed(source, run): a pull failed (run.error says why).
- sync_succeeded(source, run): a pull succeeded; alerts about this source may clear.
- data_problem(source, kind, day, message, fingerprint): a data check found something
  (missing day, negative spend, spike, stale source). `fingerprint` is stable per problem.
- data_problem_cleared(source, fingerprint): that problem is no longer there.
"""

from django.dispatch import Signal

sync_failed = Signal()
sync_succeeded = Signal()
data_problem = Signal()
data_problem_cleared = Signal()
