from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Ownership and nudges"

    def ready(self) -> None:
        # The Slack directory follows ownership resolution; open nudge drafts follow the directory.
        from notifications.nudges import receivers as nudge_receivers  # noqa: F401
        from notifications.slack import receivers  # noqa: F401
