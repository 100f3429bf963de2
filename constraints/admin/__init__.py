"""The operator's screens, one module per area."""

from constraints.admin import alerts, constraint, people, rules  # noqa: F401  (registers)
