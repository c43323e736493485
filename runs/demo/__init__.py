"""A deterministic demo fleet of migration attempts, written as MLflow traces."""
