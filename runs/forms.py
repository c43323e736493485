"""Query-string forms for the list pages; bad values are reported, never trusted."""

from django import forms

from runs.models import RepositoryState


class TargetFilterForm(forms.Form):
    """Filters of a migration's repository table: state and team slug ("-" for no team)."""

    state = forms.ChoiceField(choices=[("", "any state"), *RepositoryState.choices], required=False)
    team = forms.CharField(max_length=200, required=False)

    def filters(self) -> dict[str, str]:
        """The valid filters; an invalid field is dropped so the page still renders."""
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        return {"state": cleaned.get("state") or "", "team": (cleaned.get("team") or "").strip()}
