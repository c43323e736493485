"""Query-string forms for the list pages; bad values are reported, never trusted."""

from django import forms
from django.contrib.auth import get_user_model

from runs.fleet.models import Layer, PullRequest, RepositoryState
from runs.fleet.selectors import target_list


class TargetFilterForm(forms.Form):
    """Filters of a migration's repository table: state and team slug ("-" for no team)."""

    state = forms.ChoiceField(choices=[("", "any state"), *RepositoryState.choices], required=False)
    team = forms.CharField(max_length=200, required=False)

    def filters(self) -> dict[str, str]:
        """The valid filters; an invalid field is dropped so the page still renders."""
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        return {"state": cleaned.get("state") or "", "team": (cleaned.get("team") or "").strip()}


class RepositoryFilterForm(TargetFilterForm):
    """The repository table's filters: state, team, latest attempt's layer, cluster id, pull-request state, name and
    failure text."""

    layer = forms.ChoiceField(choices=[("", "any layer"), *Layer.choices], required=False)

    cluster = forms.IntegerField(min_value=1, required=False)
    pr_state = forms.ChoiceField(choices=[("", "any"), ("none", "no PR"), *PullRequest.State.choices], required=False)
    repo = forms.CharField(max_length=300, required=False)
    q = forms.CharField(max_length=200, required=False)

    def filters(self) -> dict:
        found = super().filters()
        cleaned = getattr(self, "cleaned_data", {})
        return {
            **found,
            "layer": cleaned.get("layer") or "",
            "cluster": cleaned.get("cluster") or None,
            "pr_state": cleaned.get("pr_state") or "",
            "repo": (cleaned.get("repo") or "").strip(),
            "text": (cleaned.get("q") or "").strip(),
        }


class MigrationOwnerForm(forms.Form):
    """Add or remove one owner of a migration, named by username."""

    action = forms.ChoiceField(choices=[("add", "add"), ("remove", "remove")])
    username = forms.CharField(max_length=150)

    def clean_username(self):
        name = self.cleaned_data["username"].strip()
        user = get_user_model().objects.filter(username=name).first()
        if user is None:
            raise forms.ValidationError(f"no user {name[:150]!r}")
        return user


def repository_names_selected(*, migration, data) -> list[str]:
    """The repositories a table selection stands for: the ticked `repos`, or with `all_matching=1`
    every repository matching the table's filters (sent back as `filter_<name>` fields)."""

    if data.get("all_matching") != "1":
        return [name for name in data.getlist("repos") if name.strip()]
    query = {key.removeprefix("filter_"): value for key, value in data.items() if key.startswith("filter_")}
    filters = RepositoryFilterForm(query).filters()
    return list(target_list(migration=migration, **filters).values_list("repository__full_name", flat=True))
