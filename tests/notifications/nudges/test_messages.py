"""Building a team's Slack nudge: escaping untrusted text and staying inside Block Kit limits."""

import re
from datetime import date

from notifications.nudges.messages import (
    HEADER_TEXT_LIMIT,
    MAX_BLOCKS,
    SECTION_TEXT_LIMIT,
    PrLine,
    build_nudge_message,
    mrkdwn_escape,
    safe_url,
)

MIGRATION_URL = "https://fleetui.example.com/migrations/7"


def pr(repo: str = "acme/ledger", number: int = 12, **kwargs) -> PrLine:
    fields = {"url": f"https://github.com/{repo}/pull/{number}", "age_days": 3, "checks": "success", "review": "none"}
    fields.update(kwargs)
    return PrLine(repo=repo, number=number, **fields)


def build(prs, **kwargs):
    args = {
        "team_name": "Payments",
        "migration_title": "Java 21 upgrade",
        "migration_url": MIGRATION_URL,
        "why": "Java 17 support ends in September.",
        "ask": "Review and merge your PRs",
        "due": date(2025, 3, 14),
        "prs": prs,
    }
    args.update(kwargs)
    return build_nudge_message(**args)


def mrkdwn_texts(blocks) -> list[str]:
    texts = []
    for block in blocks:
        if block["type"] == "section":
            texts.append(block["text"]["text"])
        elif block["type"] == "context":
            texts.extend(e["text"] for e in block["elements"])
    return texts


def control_sequences(text: str) -> list[str]:
    return re.findall(r"<([^>]*)>", text)


def test_it_lists_each_pr_with_its_link_age_ci_and_review_state():
    text, blocks = build([pr("acme/ledger", 12, age_days=5, checks="failure", review="APPROVED")])

    body = "\n".join(mrkdwn_texts(blocks))
    assert "<https://github.com/acme/ledger/pull/12|acme/ledger#12>" in body
    assert "5 days old" in body
    assert "failing" in body
    assert "approved" in body
    assert blocks[0]["type"] == "header"


def test_the_fallback_text_says_who_what_and_by_when():
    text, _ = build([pr(), pr("acme/billing", 3)])

    assert text
    assert "Payments" in text
    assert "2 pull requests" in text
    assert "Review and merge your PRs" in text
    assert "2025-03-14" in text
    assert "Java 17 support ends" in text
    assert f"<{MIGRATION_URL}|Java 21 upgrade>" in text


def test_a_nudge_without_prs_or_due_date_still_has_fallback_text():
    text, blocks = build([], due=None)

    assert text.strip()
    assert " by " not in text
    assert all(block["type"] != "divider" for block in blocks)


def test_a_repository_name_cannot_inject_a_mention_or_a_link():
    evil = [pr("acme/<!channel>", 1), pr("acme/<http://evil.example|x>", 2), pr("acme/<@U0ADMIN> & co", 3)]

    text, blocks = build(evil, team_name="<!here>", migration_title="<!everyone> upgrade", why="see <http://evil>")

    everything = [text, *mrkdwn_texts(blocks)]
    for chunk in everything:
        for sequence in control_sequences(chunk):
            target = sequence.split("|", 1)[0]
            assert target == MIGRATION_URL or target.startswith("https://github.com/"), sequence
    assert "&lt;!channel&gt;" in "\n".join(everything)
    assert "&lt;!here&gt;" in text


def test_urls_that_are_not_plain_web_links_are_not_linked():
    _, blocks = build([pr(url="javascript:alert(1)"), pr("acme/b", 2, url="https://x.example/a|<!channel>")])

    body = "\n".join(mrkdwn_texts(blocks))
    assert "javascript:" not in body
    assert "<!channel>" not in body
    assert "https://x.example/a%7C%3C!channel%3E|acme/b#2" in body


def test_escaping_handles_the_three_control_characters():
    assert mrkdwn_escape("a & <b> c") == "a &amp; &lt;b&gt; c"
    assert safe_url("ftp://example.com/x") is None
    assert safe_url("https://example.com/a b") == "https://example.com/a%20b"


def test_a_long_header_is_cut_to_the_block_kit_limit():
    _, blocks = build([pr()], migration_title="x" * 400)

    assert len(blocks[0]["text"]["text"]) <= HEADER_TEXT_LIMIT


def assert_within_block_kit_limits(blocks):
    assert len(blocks) <= MAX_BLOCKS
    for text in mrkdwn_texts(blocks):
        assert 0 < len(text) <= SECTION_TEXT_LIMIT


def listed_and_more(blocks) -> tuple[int, int]:
    listed = sum(text.count("• ") for text in mrkdwn_texts(blocks) if not text.startswith("…"))
    more_texts = [t for t in mrkdwn_texts(blocks) if t.startswith("…and ")]
    more = int(re.match(r"…and (\d+) more", more_texts[0]).group(1)) if more_texts else 0
    return listed, more


def test_a_hundred_and_twenty_prs_are_truncated_with_and_n_more():
    prs = [pr(f"acme/service-{i:03d}", i) for i in range(120)]

    _, blocks = build(prs)

    assert_within_block_kit_limits(blocks)
    listed, more = listed_and_more(blocks)
    assert listed > 0 and more > 0
    assert listed + more == 120


def test_long_lines_are_split_across_sections_and_never_exceed_the_limits():
    prs = [pr(f"acme/{'very-long-repository-name-' * 4}{i:03d}", i, review="changes_requested") for i in range(120)]

    _, blocks = build(prs, max_prs=500)

    assert_within_block_kit_limits(blocks)
    listed, more = listed_and_more(blocks)
    assert listed + more == 120
    assert sum(1 for b in blocks if b["type"] == "section") > 2


def test_huge_untrusted_names_still_fit_one_section_each():
    prs = [pr("acme/" + "&" * 5000, i) for i in range(60)]

    _, blocks = build(prs, max_prs=60, team_name="<" * 5000)

    assert_within_block_kit_limits(blocks)
    listed, more = listed_and_more(blocks)
    assert listed + more == 60
