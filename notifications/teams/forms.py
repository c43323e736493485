"""Forms of the team pages: the inbox filters and a team's inbox settings."""

from django import forms
from django.db.models import Q

from notifications.slack.models import SlackChannel
from notifications.teams.selectors import CI_CHOICES, INBOX_DEFAULT_SORT, INBOX_SORTS, REVIEW_CHOICES, InboxFilters

CI = [("", "any"), *[(c, c.replace("_", " ")) for c in CI_CHOICES]]
REVIEW = [("", "any"), *[(r, r.replace("_", " ")) for r in REVIEW_CHOICES]]


class InboxFilterForm(forms.Form):
    migration = forms.SlugField(required=False, max_length=200)
    ci = forms.ChoiceField(required=False, choices=CI)
    review = forms.ChoiceField(required=False, choices=REVIEW)
    stale = forms.BooleanField(required=False)
    order = forms.CharField(required=False, max_length=40)

    def filters(self) -> InboxFilters:
        """The valid filters; a value that does not validate is ignored rather than answered with an error."""
        self.is_valid()
        data = self.cleaned_data
        order = data.get("order") or ""
        return InboxFilters(
            migration=data.get("migration") or "",
            ci=data.get("ci") or "",
            review=data.get("review") or "",
            stale_only=bool(data.get("stale")),
            order=order if order.lstrip("-") in INBOX_SORTS else INBOX_DEFAULT_SORT,
        )


class TeamSettingsForm(forms.Form):
    digest_enabled = forms.BooleanField(required=False, label="Daily digest across migrations")
    stale_days = forms.IntegerField(
        required=False, min_value=1, max_value=365, label="Stale after (days)", help_text="Blank: the default."
    )
    escalation_channel = forms.CharField(
        required=False, max_length=201, label="Escalation channel", help_text="A channel id (C0…) or #name."
    )

    def clean_escalation_channel(self) -> SlackChannel | None:
        value = (self.cleaned_data.get("escalation_channel") or "").strip()
        if not value:
            return None
        name = value.removeprefix("#")
        found = (
            SlackChannel.objects.filter(Q(channel_id=value) | Q(name=name), seen_in_sync=True, is_archived=False)
            .order_by("name")
            .first()
        )
        if found is None:
            raise forms.ValidationError("No such channel in the Slack directory (sync it first, or check the name).")
        return found
