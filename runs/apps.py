from django.apps import AppConfig


class RunsConfig(AppConfig):
    name = "runs"
    verbose_name = "Migrations and attempts"

    def ready(self) -> None:
        # Who started an import owns the migrations it brought in.
        from runs import receivers  # noqa: F401

        # The overview's and dashboard's kept counts are counted again when an import finishes.
        from runs.dashboards import receivers as dashboard_receivers  # noqa: F401

        # Reruns link new attempts after imports and judge their outcome after clustering.
        from runs.reruns import receivers as rerun_receivers  # noqa: F401
