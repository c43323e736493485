"""The demo's runner: simulates the agent and writes the new session as an MLflow trace.

Outcomes come from the demo fleet's simulation, drawn so that a prompt revision naming the fix of a
repository's own failure cause makes it pass nine times in ten and an unchanged prompt makes it fail the
same way nine times in ten (`runs.demo.canary`): a cluster rerun with its fix in the prompt passes its
canary and expands, another rerun unchanged pauses, and the whole loop shows in the demo.
"""

from __future__ import annotations

import random
import time

from django.conf import settings

from runs.demo.canary import rerun_attempt
from runs.demo.entities import BUILDS, DemoMigration, DemoRepo
from runs.demo.migrations import MIGRATIONS
from runs.demo.writer import write_attempt_trace
from runs.fleet.models import Repository, VerifierResult
from runs.reruns.runners.base import RunJob, Runner, RunResult, StartedCallback, TransientRunnerError

DEFAULT_MODEL = "claude-sonnet-4-5"


def demo_repo(full_name: str, *, build: str, team: str = ""):
    """The demo's description of a repository, from its name and build system."""

    owner, _, name = full_name.partition("/")
    build = build if build in BUILDS else "maven"
    language = {"maven": "Java", "gradle": "Kotlin", "npm": "TypeScript", "pytest": "Python"}.get(build, build.title())
    return DemoRepo(owner=owner or "acme", name=name or full_name, team=team, build=build, language=language)


def demo_migration(slug: str, prompt_text: str):

    for migration in MIGRATIONS:
        if migration.slug == slug:
            return migration
    return DemoMigration(slug, slug, BUILDS, (prompt_text,), 0.25, DEFAULT_MODEL)


def repository_build(full_name: str) -> tuple[str, str]:
    """The build system last seen in the repository's verifier calls, and its team."""

    kind = (
        VerifierResult.objects.filter(attempt__repository__full_name=full_name)
        .order_by("-attempt__ended_at", "-id")
        .values_list("kind", flat=True)
        .first()
    )
    team = Repository.objects.filter(full_name=full_name).values_list("team__slug", flat=True).first()
    return kind or "maven", team or ""


class DemoRunner(Runner):
    """Writes one simulated agent session per job into the MLflow store the importer reads."""

    name = "demo"

    def __init__(self, *, tracking_uri: str, delay: float = 0.0) -> None:
        self.tracking_uri = tracking_uri
        self.delay = delay

    @classmethod
    def from_settings(cls) -> DemoRunner:
        return cls(tracking_uri=settings.MLFLOW_TRACKING_URI)

    def reference(self, job: RunJob) -> str:
        return f"demo:{job.idempotency_key}"

    def dispatch(self, job: RunJob, *, on_started: StartedCallback | None = None) -> RunResult:

        ref = self.reference(job)
        if on_started is not None:
            on_started(ref)
        if self.delay:
            time.sleep(self.delay)
        build, team = repository_build(job.repo)
        attempt = rerun_attempt(
            repo=demo_repo(job.repo, build=build, team=team),
            migration=demo_migration(job.migration, job.prompt_text),
            prompt_text=job.prompt_text,
            attempt=job.attempt,
            # Seeded by the try, so a repeated dispatch of the same try simulates the same session.
            rng=random.Random(job.idempotency_key),
            prompt_rev=job.prompt_revision,
        )
        # The session ends now: the importer reads traces by end time.
        seconds = sum(c.duration_s for c in attempt.llm_calls) + sum(c.duration_s for c in attempt.verify_calls)
        attempt.started_at_ms = int(time.time() * 1000) - int(seconds * 1000) - 1000
        try:
            trace_id = write_attempt_trace(attempt, tracking_uri=self.tracking_uri)
        except Exception as exc:  # the tracking store may be busy or briefly unreachable
            raise TransientRunnerError(f"could not write the trace: {exc}", vendor="mlflow") from None
        return RunResult(
            state="succeeded",
            runner_ref=f"trace:{trace_id}",
            exit_code=0,
            output_tail=f"agent session {trace_id} ended: {attempt.outcome}",
        )
