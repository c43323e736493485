"""Login throttling: django-axes refuses a locked-out username and address before any password check."""

from axes.backends import AxesStandaloneBackend


class LoginThrottleBackend(AxesStandaloneBackend):
    """Axes' lockout check for logins over HTTP.

    `authenticate()` without a request (a shell, a management command, the test client's
    `login()`) has no address to throttle by; axes would raise, so it is left to the next backend.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
