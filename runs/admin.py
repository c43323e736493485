"""Admin pages of the runs app, one module per domain."""

import runs.accounts.admin  # noqa: F401
import runs.fleet.admin  # noqa: F401
import runs.imports.admin  # noqa: F401
