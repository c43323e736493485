"""Lines that differ only in their digits are masked once, and the repository's names without regexes."""

import random
import re
import sys

from triage.engine import normalize
from triage.engine.digits import ONES, ZEROS, digit_blind, refill, sub, with_digits


def test_digits_are_mapped_like_str_translate_also_beyond_ascii():
    for text in ("a1b29 0x7f", "✖ 12 problems … 3", "", "no digits"):
        assert with_digits(text, ONES) == text.translate(str.maketrans("123456789", "111111111"))
        assert with_digits(text, ZEROS) == text.translate(str.maketrans("123456789", "000000000"))


def test_a_pattern_naming_a_digit_is_not_blind_to_digits():
    assert digit_blind([re.compile(r"\d+:\d+"), re.compile(r"[0-9a-f]{7,}"), re.compile(r"Failures: [1-9]")])
    assert digit_blind([re.compile(r"\b0x[0-9a-f]+"), re.compile(r"(<(?:n|v)>)(?:, \1)+")])
    assert not digit_blind([re.compile(r"exit code 2")])
    assert not digit_blind([re.compile(r"[0-5]\d")])
    assert not digit_blind([re.compile(r"(\d)\1")])


def test_a_tracked_substitution_says_which_ones_stay():
    line = "at 1:1 in 1 of 0"
    masked, kept = sub(re.compile(r"\d+:\d+"), "<n>", line, [0, 1, 2])
    assert masked == "at <n> in 1 of 0" and kept == [2]
    assert refill(masked, tuple(kept), "at 4:5 in 6 of 0") == "at <n> in 6 of 0"


def test_the_masking_stages_give_what_they_give_without_the_cache():
    rnd = random.Random(5)
    lines = [
        "[ERROR] /home/runner/_work/app/src/Foo.java:[12,34] cannot find symbol",
        "Tests run: 17, Failures: 3, Errors: 0, Skipped: 2, Time elapsed: 1.25 s",
        "2024-05-06T12:34:56Z ERROR log4j slf4j-api 1.7.36 node-12 TS2345 E0308 rdd_2_0 storage234",
        "Downloaded from central: https://repo.maven.org/x/1.2.3/x-1.2.3.pom (12 kB at 45 kB/s)",
        "at com.acme.Foo.bar(Foo.java:42) 0x7ffe12 deadbeef12 10.0.0.12:8080 core.2275 attempt_12_0012",
        "[ERROR] Rule 0: Dependency convergence error for project web3-api 9 9 9",
    ]
    for _ in range(300):
        base = rnd.choice(lines)
        line = "".join(str(rnd.randrange(10)) if c.isdigit() else c for c in base)
        assert normalize._stage_one(line) == normalize._stage_one_plain(line)
        assert normalize._stage_two(line) == normalize._mask_tail(line)[0]


def test_repository_names_are_masked_as_the_case_insensitive_word_regexes_mask_them():
    rnd = random.Random(11)
    alphabet = [*"abcBILLINGing-_.api42/ :<>Kk", "\ue000", "é", "\u212a", "ſ", "İ", "ı", "✖", "ß"]
    repos = ["acme/billing-api42", "Kks/ing", "orders/orders-service", "repo/x-repo", "élan/ſſs-api", "ab/cd"]
    for _ in range(5000):
        repo = rnd.choice(repos)
        words = [w for w, _ in normalize._repo_names(repo)]
        line = "".join(rnd.choice(alphabet + words + [w.upper() for w in words]) for _ in range(rnd.randint(0, 10)))
        want = line
        for pattern, mask in normalize.repo_rules(repo):
            want = pattern.sub(mask, want)
        assert normalize.mask_repo(line, repo) == want


def test_only_the_listed_characters_fold_to_ascii_letters():
    folds = re.compile(r"(?i)[a-z]").match
    found = {
        c for c in map(chr, range(0x80, sys.maxunicode + 1)) if len(c.lower()) != 1 or c.lower().isascii() or folds(c)
    }
    assert all(normalize._FOLDS_TO_ASCII.match(c) for c in found)


def test_a_line_is_classed_as_without_the_cache_whatever_its_digits():
    from triage.engine import extraction
    from triage.engine.rules import SYSTEM_BY_NAME

    rules = extraction._rules_for([SYSTEM_BY_NAME["maven"], SYSTEM_BY_NAME["npm"]])
    lines = [
        "npm ERR! 404 Not Found - GET https://registry.npmjs.org/left-pad",
        "npm ERR! 505 Not Found - GET https://registry.npmjs.org/left-pad",
        "[ERROR] Tests run: 3, Failures: 1, Errors: 0, Skipped: 0",
        "[ERROR] Tests run: 3, Failures: 0, Errors: 0, Skipped: 0",
        "Done. Your build exited with 1.",
        "  12:5  error  'x' is defined but never used  no-unused-vars",
    ]
    for line in lines:
        assert extraction._classify_cached(line, rules) == extraction._classify(line, rules)
        assert extraction._line_kind_cached(line) == extraction._line_kind(line)
