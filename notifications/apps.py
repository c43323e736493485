from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Ownership and nudges"

    def ready(self) -> None:
        # The Slack directory follows ownership resolution.
        from notifications.slack import receivers  # noqa: F401
