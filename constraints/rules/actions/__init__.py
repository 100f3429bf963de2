"""What an action does on one platform: read a campaign's budget and status, then change them.

One module per platform, each registered for the Source.kind whose campaigns it can change.
Every call goes through `sources.http.request`; errors say whether they are permanent.
"""

# Importing the modules registers them.
from constraints.rules.actions import demo, google_ads, meta_ads  # noqa: F401
from constraints.rules.actions.base import ActionError, Executor, State, executor_for, register

__all__ = ["ActionError", "Executor", "State", "executor_for", "register"]
