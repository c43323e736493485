"""Pull-request sync runs, webhook deliveries and the reviewer gate."""

__all__: list[str] = []
