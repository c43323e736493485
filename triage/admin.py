"""Admin pages of the triage app."""

import triage.clusters.admin  # noqa: F401
