"""Rerun batches: selected repositories sent back to the agent, one item each."""

__all__: list[str] = []
