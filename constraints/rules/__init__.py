"""Rules and what they do: judging conditions on metrics, the decision ledger, approval,
execution on the platforms (`actions/`), and the backtest.

May import the core (`constraints.models`, `constraints.metrics`, `constraints.alerting`) and
`sources`; never the alerts' delivery or the dashboard.
"""
