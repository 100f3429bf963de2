"""Alerts and their delivery: anomaly detection, planning and sending messages within the
weekly budget, the digest, message wording, the Slack and email transports, and the receivers
that turn pipeline signals into alerts.

May import the core, `sources` and the rules' decisions; never the dashboard.
"""
