"""The draft preview renders Slack mrkdwn as HTML without letting any text become markup."""

from notifications.templatetags.slack import slack_mrkdwn


def test_it_shows_slack_entities_as_the_characters_they_stand_for():
    assert str(slack_mrkdwn("Search &amp; Discovery")) == "Search &amp; Discovery"
    assert "&amp;amp;" not in str(slack_mrkdwn("Search &amp; Discovery"))


def test_it_renders_bold_italics_line_breaks_and_http_links():
    html = str(slack_mrkdwn("*Why:* _soon_\n<https://github.com/acme/api/pull/7|acme/api#7>"))
    assert "<strong>Why:</strong>" in html
    assert "<em>soon</em>" in html
    assert "<br>" in html
    assert '<a href="https://github.com/acme/api/pull/7" rel="noopener noreferrer">acme/api#7</a>' in html


def test_untrusted_text_never_becomes_markup():
    html = str(slack_mrkdwn("&lt;script&gt;alert(1)&lt;/script&gt; <javascript:alert(1)|click> <!channel>"))
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "href" not in html
    assert "&lt;!channel&gt;" in html


def test_a_link_label_cannot_inject_attributes_or_tags():
    html = str(slack_mrkdwn('<https://x.test/a"onmouseover="b|<b>bold</b>>'))
    assert 'onmouseover="b' not in html
    assert "<b>" not in html
