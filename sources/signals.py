"""What the sources app tells the rest of the project. `constraints` listens; `sources` never
imports it.

Every signal is sent with sender=Source and these keyword arguments:

- sync_failed(source, run): a pull failed (run.error says why). A source that is merely not
  configured sends nothing.
- sync_succeeded(source, run): a pull succeeded; alerts about this source may clear.
- data_problem(source, kind, day, message, fingerprint): a data check found something
  (DataCheck.Kind: missing_day, negative_spend, value_spike, row_count_spike, stale; `day` is
  None for stale). Sent each time the problem is found again; `fingerprint` is stable per
  problem, so receivers must be idempotent per fingerprint.
- data_problem_cleared(source, fingerprint): that problem is no longer there.
"""

from django.dispatch import Signal

sync_failed = Signal()
sync_succeeded = Signal()
data_problem = Signal()
data_problem_cleared = Signal()
