"""Admin pages of the notifications app, one module per domain."""

import notifications.nudges.admin  # noqa: F401
import notifications.ownership.admin  # noqa: F401
import notifications.slack.admin  # noqa: F401
import notifications.teams.admin  # noqa: F401
