"""Forms of the ownership pages."""

from django import forms


class OverrideForm(forms.Form):
    repo = forms.CharField(max_length=300)
    team = forms.SlugField(max_length=200)
    reason = forms.CharField(max_length=500, required=False)
