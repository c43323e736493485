"""The database connection in use, as a URL another process (a worker) can be given."""

from django.db import connection


def database_url() -> str:
    """A DATABASE_URL naming the database this process uses, for a worker process to share."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        name = db["NAME"]
        if name == ":memory:" or str(name).startswith("file:memorydb"):
            raise RuntimeError("worker processes need a file-based SQLite database")
        return f"sqlite:///{name}"
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"
