"""The form that creates an API token on the tokens page."""

from django import forms

from runs.accounts.models import ApiToken
from runs.accounts.services import TOKEN_DEFAULT_DAYS, TOKEN_MAX_DAYS

EXPIRY_CHOICES = [
    (7, "7 days"),
    (30, "30 days"),
    (TOKEN_DEFAULT_DAYS, f"{TOKEN_DEFAULT_DAYS} days"),
    (TOKEN_MAX_DAYS, "1 year"),
]


class ApiTokenCreateForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What the token is for, e.g. 'ci' or 'weekly report'.")
    scope = forms.ChoiceField(
        choices=ApiToken.Scope.choices,
        initial=ApiToken.Scope.READ_ONLY,
        widget=forms.RadioSelect,
        help_text="Read-only tokens answer GET requests only; read-write tokens may also start imports, reruns and nudges your roles allow.",
    )
    expires_in_days = forms.TypedChoiceField(
        label="Expires after", choices=EXPIRY_CHOICES, coerce=int, initial=TOKEN_DEFAULT_DAYS
    )
