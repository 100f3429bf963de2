from constraints.models.alerts import Alert, AlertPolicy, Delivery
from constraints.models.constraint import Constraint, Metric
from constraints.models.rules import Condition, Decision, Rule

__all__ = [
    "Alert",
    "AlertPolicy",
    "Condition",
    "Constraint",
    "Decision",
    "Delivery",
    "Metric",
    "Rule",
]
