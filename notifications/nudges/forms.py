"""Forms of the nudge pages."""

from django import forms


class NudgeCreateForm(forms.Form):
    repos = forms.CharField(required=False, max_length=300)
    cluster = forms.IntegerField(required=False, min_value=1)
    due = forms.DateField(required=False)
    include_unready = forms.BooleanField(required=False)


class DraftEditForm(forms.Form):
    text = forms.CharField(max_length=3000, widget=forms.Textarea(attrs={"rows": 8}))


class SendForm(forms.Form):
    nudges = forms.TypedMultipleChoiceField(coerce=int, choices=())
    confirm = forms.BooleanField(required=True, error_messages={"required": "Tick the box to confirm the send."})

    def __init__(self, *args, draft_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["nudges"].choices = [(i, str(i)) for i in draft_ids]


class SnoozeForm(forms.Form):
    days = forms.IntegerField(min_value=1, max_value=90, initial=7)
    migration = forms.SlugField(required=False)
    reason = forms.CharField(max_length=500, required=False)
