"""Forms of the Slack channel pages."""

from django import forms

from notifications.slack.models import SlackChannel


class ChannelChoiceForm(forms.Form):
    """A team's channel: a suggested one by its radio button (`channel`) or any one from the list (`other_channel`).

    When both are given the list wins: picking from "or another channel" is the later, deliberate choice.
    """

    channel = forms.CharField(max_length=40, required=False)
    other_channel = forms.CharField(max_length=40, required=False)

    def clean(self):
        data = super().clean()
        # A page rendered before the list had its own name posts `channel` twice (radio, then the list).
        legacy = [v.strip() for v in self.data.getlist("channel") if v.strip()] if hasattr(self.data, "getlist") else []
        suggested = (data.get("channel") or "").strip() or (legacy[-1] if legacy else "")
        wanted = (data.get("other_channel") or "").strip() or suggested
        if not wanted:
            raise forms.ValidationError("Choose a suggested channel or one from the list.")
        channel = SlackChannel.objects.filter(channel_id=wanted, seen_in_sync=True, is_archived=False).first()
        if channel is None:
            raise forms.ValidationError("That channel is not in the directory (or is archived): choose another.")
        data["chosen"] = channel
        return data
