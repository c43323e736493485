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


def test_it_renders_strike_code_blocks_and_quotes_as_slack_does():
    html = str(slack_mrkdwn("~old~ `a *b* &lt;c&gt;`\n&gt; quoted *line*\n&gt; second\nafter\n```x = 1\n*not bold*```"))
    assert "<del>old</del>" in html
    assert '<code class="slack-code">a *b* &lt;c&gt;</code>' in html  # no formatting inside code
    assert '<blockquote class="slack-quote">quoted <strong>line</strong><br>second</blockquote>after' in html
    assert '<pre class="slack-pre">x = 1\n*not bold*</pre>' in html


def test_bold_may_wrap_a_link_as_in_a_nudges_intro():
    html = str(slack_mrkdwn("the *<https://fleet.test/m/|Java 21 &amp; more>* migration"))
    assert '<strong><a href="https://fleet.test/m/" rel="noopener noreferrer">Java 21 &amp; more</a></strong>' in html


def test_known_emoji_shortcodes_show_as_emoji_and_unknown_ones_stay_text():
    html = str(
        slack_mrkdwn("CI: :white_check_mark: :x: :warning: :wave: :hourglass_flowing_sand: :partyparrot: 10:30:45")
    )
    for emoji, code in (("✅", ":white_check_mark:"), ("❌", ":x:"), ("⚠️", ":warning:"), ("👋", ":wave:")):
        assert f'title="{code}">{emoji}</span>' in html
    assert "⏳" in html
    assert ":partyparrot:" in html and "10:30:45" in html
    assert str(slack_mrkdwn("`:x:`")) == '<code class="slack-code">:x:</code>'  # code shows shortcodes as typed


def test_user_and_channel_references_read_as_names_and_broadcasts_stay_text():
    html = str(slack_mrkdwn("<@U0ABC> in <#C0XYZ|payments> <!here>"))
    assert '<span class="slack-mention">@U0ABC</span>' in html
    assert '<span class="slack-mention">#payments</span>' in html
    assert "&lt;!here&gt;" in html


def test_formatting_characters_cannot_smuggle_markup_or_placeholders():
    html = str(slack_mrkdwn('*<img src=x onerror=alert(1)>* _"quoted"_ \ue0000\ue001 ~<b>~ :x:<script>'))
    assert "<img" not in html and "<script" not in html and "<b>" not in html
    assert "\ue000" not in html and "\ue001" not in html
    assert "<em>&quot;quoted&quot;</em>" in html


def test_a_header_shows_emoji_and_escapes_everything_else():
    from notifications.templatetags.slack import slack_plain

    html = str(slack_plain("Java 21 <b>&</b> :tada:"))
    assert html.startswith("Java 21 &lt;b&gt;&amp;&lt;/b&gt; ") and "🎉" in html
