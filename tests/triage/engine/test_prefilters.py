"""The cheap tests in front of the extraction's regexes say yes whenever the regexes would find something."""

import random

from triage.engine import extraction, steps

TRAVIS = [
    "travis_fold:start:install",
    "$ mvn install -DskipTests",
    "[INFO] BUILD SUCCESS",
    "travis_fold:end:install",
    "travis_time:start:0a1b2c",
    "$ mvn test",
    "[ERROR] Tests run: 3, Failures: 1",
    "travis_time:end:0a1b2c",
    'The command "mvn test" exited with 1.',
    "Done. Your build exited with 1.",
]


def test_marker_lines_are_the_lines_that_start_like_a_ci_marker():
    rnd = random.Random(4)
    pool = [*TRAVIS, "plain line", "", "  $ indented", "--- FAIL: TestX", "##[group]Run make", "🚨 Error: x"]
    for _ in range(300):
        lines = [rnd.choice(pool) for _ in range(rnd.randint(0, 12))]
        want = [i for i, line in enumerate(lines) if line.startswith(steps._MARKER_STARTS)]
        assert steps.marker_lines(lines) == want


def test_the_failed_step_is_found_as_well_from_the_known_marker_lines():
    step = steps.failed_step(TRAVIS, steps.marker_lines(TRAVIS))
    assert step == steps.failed_step(TRAVIS)
    assert step is not None and step.exit_code == 1
    assert steps.failed_step(["no markers", "at all"], []) is None


def test_control_characters_and_ci_timestamps_are_seen_by_the_cheap_tests():
    rnd = random.Random(8)
    chars = ["a", "\n", "\t", "\x00", "\x07", "\x1f", "\x7f", "\ufffd", "é", "\x85", "T", "1", ":", "-"]
    for _ in range(3000):
        text = "".join(rnd.choice(chars) for _ in range(rnd.randint(0, 10)))
        assert extraction._has_control(text) == (extraction.CONTROL_RE.search(text) is not None)
    stamped = "2024-05-06T12:34:56.123Z [ERROR] boom"
    assert extraction._has_ci_prefix(stamped)
    assert extraction._has_ci_prefix("x" * 30_000 + "\n" + stamped)
    assert not extraction._has_ci_prefix("at 12:34:56 nothing starts a line with a date")
