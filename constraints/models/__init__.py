from constraints.models.alerts import Alert
from constraints.models.constraint import Constraint, Metric
from constraints.models.health import Heartbeat
from constraints.models.rules import Condition, Decision, Rule

__all__ = ["Alert", "Condition", "Constraint", "Decision", "Heartbeat", "Metric", "Rule"]
