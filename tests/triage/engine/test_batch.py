"""Many failures prepared over several processes come out exactly as one process prepares them, in order."""

from triage.engine import batch
from triage.engine.batch import RawFailure, StoredFailure, prepare_many, reread_many, reread_one
from triage.engine.clustering import prepare_failure, prepare_failures


def _failures(n: int) -> list[RawFailure]:
    out = []
    for i in range(n):
        repo = f"acme/svc-{i % 13}"
        if i % 3 == 0:
            text = (
                f"[INFO] Building svc-{i % 13}\n[ERROR] Failed to execute goal org.apache.maven.plugins:"
                f"maven-compiler-plugin:3.{i % 9}.0:compile (default-compile) on project svc-{i % 13}: Compilation failure\n"
                f"[ERROR] /builds/acme/svc-{i % 13}/src/main/java/a/A{i}.java:[{i},9] cannot find symbol\n"
                f"[ERROR]   symbol:   class Legacy{i % 4}\n"
            )
            out.append(RawFailure(f"f{i}", text, "maven", repo))
        elif i % 3 == 1:
            text = f"$ go test ./...\n--- FAIL: TestLookup ({i}.00s)\n    table_test.go:{i}: got {i} routes, want 4\nFAIL\n"
            out.append(RawFailure(f"f{i}", text, None, repo))
        else:
            out.append(
                RawFailure(f"f{i}", f"The patch drops the retry in client {i}. Tests fail.", None, repo, "judge")
            )
    return out


def test_two_processes_give_the_answers_of_one_in_the_same_order(monkeypatch):
    failures = _failures(90)
    monkeypatch.setattr(batch, "MIN_PARALLEL", 10)
    serial = prepare_many(failures, workers=1)
    parallel = prepare_many(failures, workers=2, chunk=7)
    assert parallel == serial
    assert len(parallel) == 90


def test_prepared_failures_are_those_prepare_failure_gives_one_at_a_time(monkeypatch):
    failures = _failures(30)
    monkeypatch.setattr(batch, "MIN_PARALLEL", 10)
    loaded: list[bool] = []
    monkeypatch.setattr("triage.engine.clustering._load_sklearn", lambda: loaded.append(True))
    many = prepare_failures(failures, workers=2)
    one_by_one = [prepare_failure(f.id, f.text, verifier=f.verifier, repo=f.repo, kind=f.kind) for f in failures]
    assert many == one_by_one
    assert many[2].kind == "judge" and many[2].snippet.startswith("The patch drops the retry")
    assert loaded == [True]


def test_few_failures_stay_in_this_process():
    assert prepare_many(_failures(5), workers=2) == prepare_many(_failures(5), workers=1)


def test_stored_snippets_are_masked_and_read_as_one_process_reads_them(monkeypatch):
    prepared = prepare_many(_failures(40), workers=1)
    stored = [StoredFailure((snippet, "", snippet), f"acme/svc-{i % 13}") for i, (snippet, *_) in enumerate(prepared)]
    monkeypatch.setattr(batch, "MIN_PARALLEL", 10)
    assert reread_many(stored, workers=2, chunk=3) == [reread_one(s) for s in stored]
    normalized, cause = reread_one(stored[0])
    assert normalized == prepared[0][1] + "\n" + prepared[0][1]
    assert cause.key == prepared[0][3].key
