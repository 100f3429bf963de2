from constraints.models.alerts import Alert, AlertPolicy, Delivery
from constraints.models.constraint import Constraint, ConstraintPeriod, Metric
from constraints.models.health import Heartbeat
from constraints.models.rules import ActionSwitch, Condition, Decision, Rule
from constraints.models.slack import SlackIdentity, SlackInteraction

__all__ = [
    "ActionSwitch",
    "Alert",
    "AlertPolicy",
    "Condition",
    "Constraint",
    "ConstraintPeriod",
    "Decision",
    "Delivery",
    "Heartbeat",
    "Metric",
    "Rule",
    "SlackIdentity",
    "SlackInteraction",
]
