"""The failures a migration's clusters are built from: each repository's latest failed attempt and failed baseline."""

from dataclasses import dataclass
from datetime import datetime

from runs.fleet.models import JudgeVerdict, Migration, Outcome, Target, VerifierResult
from triage.clusters.models import ClusterKind
from triage.engine.batch import Reread, StoredFailure, reread_many
from triage.engine.causes import Cause
from triage.engine.clustering import FailureText, prepare_failure
from triage.engine.normalize import signature

# Ids per IN (...) query: well below SQLite's and PostgreSQL's parameter limits.
CHUNK = 2000

CLUSTERED_OUTCOMES = (Outcome.VERIFY_FAILED, Outcome.JUDGE_REJECTED)


@dataclass
class Failure:
    """One failed attempt as the clustering sees it."""

    attempt_id: int
    kind: str
    repository_id: int
    repo: str
    baseline: bool
    pre_existing: bool
    ended_at: datetime | None
    verifier_result_id: int | None = None
    snippet: str = ""
    normalized: str = ""
    signature: str = ""
    cause: Cause | None = None

    @property
    def ident(self) -> str:
        return ident_of(self.attempt_id, self.kind)

    @property
    def overlap_id(self) -> tuple[int, str, bool]:
        """What stays the same when a repository is retried: matches old and new clusters."""
        return (self.repository_id, self.kind, self.baseline)

    def as_text(self) -> FailureText:
        return FailureText(
            id=self.ident,
            snippet=self.snippet,
            normalized=self.normalized,
            signature=self.signature,
            kind=self.kind,
            cause=self.cause,
        )

    @property
    def deciding_line(self) -> str:
        return self.cause.line if self.cause is not None else ""


def ident_of(attempt_id: int, kind: str) -> str:
    return f"{attempt_id}:{kind}"


def _candidates(migration: Migration) -> dict[int, Failure]:
    rows = Target.objects.filter(migration=migration).values(
        "repository_id",
        "repository__full_name",
        "pre_existing_failure",
        "latest_attempt_id",
        "latest_attempt__outcome",
        "latest_attempt__ended_at",
        "baseline_attempt_id",
        "baseline_attempt__outcome",
        "baseline_attempt__ended_at",
    )
    out: dict[int, Failure] = {}
    for row in rows.order_by():
        pre = row["pre_existing_failure"]
        for prefix, baseline in (("latest_attempt", False), ("baseline_attempt", True)):
            attempt_id = row[f"{prefix}_id"]
            outcome = row[f"{prefix}__outcome"]
            if attempt_id is None or outcome not in CLUSTERED_OUTCOMES or (baseline and not pre):
                continue
            kind = ClusterKind.VERIFY if outcome == Outcome.VERIFY_FAILED else ClusterKind.JUDGE
            out[attempt_id] = Failure(
                attempt_id=attempt_id,
                kind=kind,
                repository_id=row["repository_id"],
                repo=row["repository__full_name"],
                baseline=baseline,
                pre_existing=pre or baseline,
                ended_at=row[f"{prefix}__ended_at"],
            )
    return out


def failures_collect(
    *, migration: Migration, skip: set[str] | frozenset[str] = frozenset()
) -> tuple[list[Failure], set[str]]:
    """(failures not in `skip` with their texts, idents of every current failure).

    A verify failure's text is the stored snippet of the last failed call of each verifier kind, in call
    order; nothing is re-extracted. A judge rejection's text is the judge's rationale.
    """
    candidates = _candidates(migration)
    current = {f.ident for f in candidates.values()}
    wanted = {a: f for a, f in candidates.items() if f.ident not in skip}
    if not wanted:
        return [], current
    # Read the texts of the wanted failures only: after an import that is a handful, not the migration.
    verify_ids = sorted(a for a, f in wanted.items() if f.kind == ClusterKind.VERIFY)
    judge_ids = sorted(a for a, f in wanted.items() if f.kind == ClusterKind.JUDGE)
    last_by_kind: dict[int, dict[str, dict]] = {}
    for start in range(0, len(verify_ids), CHUNK):
        rows = (
            VerifierResult.objects.filter(attempt_id__in=verify_ids[start : start + CHUNK], passed=False)
            .order_by("attempt_id", "position")
            .values("id", "attempt_id", "kind", "snippet", "signature")
        )
        for row in rows:
            calls = last_by_kind.setdefault(row["attempt_id"], {})
            calls.pop(row["kind"], None)  # re-inserted so the dict keeps call order of the last calls
            calls[row["kind"]] = row
    rationales: dict[int, str] = {}
    for start in range(0, len(judge_ids), CHUNK):
        judged = JudgeVerdict.objects.filter(attempt_id__in=judge_ids[start : start + CHUNK])
        rationales.update(judged.values_list("attempt_id", "rationale"))

    out: list[Failure] = []
    verify: list[tuple[Failure, list[dict]]] = []
    for attempt_id, failure in sorted(wanted.items()):
        if failure.kind == ClusterKind.VERIFY:
            calls = list(last_by_kind.get(attempt_id, {}).values())
            if not calls:
                continue  # damaged trace: no failed call recorded, nothing to compare
            verify.append((failure, calls))
        else:
            text = prepare_failure(failure.ident, rationales.get(attempt_id, ""), repo=failure.repo, kind="judge")
            failure.snippet, failure.normalized, failure.signature = text.snippet, text.normalized, text.signature
            failure.cause = text.cause
        out.append(failure)
    # Masking and reading the cause is per failure: a large migration spreads it over the machine's cores.
    stored = [StoredFailure(tuple(c["snippet"] for c in calls), failure.repo) for failure, calls in verify]
    for (failure, calls), reread in zip(verify, reread_many(stored), strict=True):
        _fill_verify(failure, calls, reread)
    return out, current


def _fill_verify(failure: Failure, calls: list[dict], reread: Reread) -> None:
    failure.verifier_result_id = calls[-1]["id"]
    failure.snippet = "\n".join(c["snippet"] for c in calls if c["snippet"])
    failure.normalized, failure.cause = reread
    if len(calls) == 1 and calls[0]["signature"]:
        failure.signature = calls[0]["signature"]
    else:
        failure.signature = signature(failure.normalized)
