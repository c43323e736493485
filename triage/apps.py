from django.apps import AppConfig


class TriageConfig(AppConfig):
    name = "triage"
    verbose_name = "Failure triage"

    def ready(self) -> None:
        # Clustering follows trace import.
        from triage.clusters import receivers, writeback_admin  # noqa: F401
