"""The failing step of a CI job is found from its CI system's own step markers."""

from triage.engine.steps import failed_step, is_boilerplate


def test_a_travis_step_runs_from_its_timer_start_to_the_command_that_exited_non_zero():
    lines = [
        "travis_time:start:aa11",
        "$ npm ci",
        "added 10 packages",
        "travis_time:end:aa11:start=1,finish=2,duration=1",
        "travis_time:start:bb22",
        "$ npm test",
        "$ echo printed by the test script itself",
        "Error: expected 1 to equal 2",
        "travis_time:end:bb22:start=3,finish=4,duration=1",
        'The command "npm test" exited with 1.',
    ]
    step = failed_step(lines)
    assert (step.start, step.end, step.exit_code) == (5, 9, 1)
    assert lines[step.marker].startswith("The command")


def test_a_travis_command_quoted_over_several_lines_still_ends_its_step():
    lines = [
        "travis_time:start:cc33",
        "$ make test",
        "boom: failed",
        "travis_time:end:cc33:",
        'The command "make',
        'test" exited with 2.',
    ]
    step = failed_step(lines)
    assert (step.start, step.end, step.exit_code) == (1, 4, 2)


def test_steps_that_exited_zero_are_passed_over():
    lines = ["##[group]Run lint", "ok", "##[group]Run test", "1 failed", "##[error]Process completed with exit code 1."]
    lines.insert(2, "##[error]Process completed with exit code 0.")
    step = failed_step(lines)
    assert lines[step.start : step.end] == ["1 failed"]


def test_a_jenkins_failure_reported_after_skipped_stages_points_at_the_shell_step_that_ran():
    lines = [
        "[Pipeline] { (Test)",
        "[Pipeline] sh",
        "+ pytest",
        "E   assert 1 == 2",
        "[Pipeline] }",
        "[Pipeline] { (Deploy)",
        'Stage "Deploy" skipped due to earlier failure(s)',
        "[Pipeline] }",
        "ERROR: script returned exit code 1",
    ]
    step = failed_step(lines)
    assert [line for line in lines[step.start : step.end] if not is_boilerplate(line)] == [
        "+ pytest",
        "E   assert 1 == 2",
    ]


def test_a_gitlab_job_failure_points_at_the_script_section_not_the_after_script():
    lines = [
        "section_start:1:step_script",
        "$ cargo test",
        "error[E0308]: mismatched types",
        "section_end:2:step_script",
        "section_start:2:after_script",
        "upload failed",
        "section_end:3:after_script",
        "ERROR: Job failed: exit code 1",
    ]
    step = failed_step(lines)
    assert "error[E0308]: mismatched types" in lines[step.start : step.end]
    assert "upload failed" not in lines[step.start : step.end]


def test_go_test_and_diff_lines_are_not_taken_for_buildkite_group_headers():
    lines = [
        "--- :go: test",
        "--- FAIL: TestA (0.01s)",
        "--- a/x.go",
        "+++ b/x.go",
        "Error: The command exited with status 1",
    ]
    step = failed_step(lines)
    assert step.start == 1


def test_a_plain_tool_output_has_no_failing_step():
    assert failed_step(["[ERROR] Failed to execute goal", "[ERROR] -> [Help 1]"]) is None
    assert failed_step([]) is None
