"""Forms of the Slack channel pages."""

from django import forms


class ChannelChoiceForm(forms.Form):
    channel = forms.CharField(max_length=40)
