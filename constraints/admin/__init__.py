"""The operator's screens, one module per area."""

from constraints.admin import alerts, constraint, rules  # noqa: F401  (registers)
