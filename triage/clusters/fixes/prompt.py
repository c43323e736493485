"""A fix of a cluster written as a worked example for the prompt, with its source named."""

from __future__ import annotations

import re

from triage.clusters.fixes.edits import edit_diff
from triage.clusters.fixes.exemplars import Fix, cluster_fix
from triage.clusters.models import FailureCluster

MAX_EXAMPLE_CHARS = 6_000
MAX_EXAMPLE_DIFF_LINES = 30
EXAMPLE_PARAM = re.compile(r"^(\d{1,12}):([\w.:-]{1,200})$")


def example_param(*, cluster_id: int, trace_id: str) -> str:
    """The `example` query parameter of the rerun form that names this fix."""
    return f"{cluster_id}:{trace_id}"


def fix_example_prompt_text(*, cluster: FailureCluster, fix: Fix) -> str:
    """The fix as a worked example: the failure, the repository and attempt it comes from, and its edits as diffs."""
    cause = (cluster.title or f"cluster {cluster.pk}").strip()[:300]
    lines = [
        f"Worked example (from {fix.repo}, attempt {fix.attempt} of {fix.migration}, trace {fix.trace_id}):",
        f"When the build fails with “{cause}”, this change made it pass:",
    ]
    for edit in fix.edits:
        lines.append("")
        lines.append(f"--- {edit.file}")
        lines.extend(line for _, line in edit_diff(edit, max_lines=MAX_EXAMPLE_DIFF_LINES))
    text = "\n".join(lines)
    if len(text) > MAX_EXAMPLE_CHARS:
        text = text[:MAX_EXAMPLE_CHARS].rsplit("\n", 1)[0] + "\n[… example shortened]"
    return text


def prompt_with_example(prompt: str, example: str) -> str:
    """The prompt with the worked example appended after a blank line."""
    return f"{prompt.rstrip()}\n\n{example}\n" if prompt.strip() else f"{example}\n"


def fix_example_from_param(value: str, *, migration_id: int | None = None) -> str:
    """The worked example named by an `example=<cluster id>:<trace id>` parameter, or "" when it names none."""
    match = EXAMPLE_PARAM.match((value or "").strip())
    if not match:
        return ""
    cluster = FailureCluster.objects.filter(pk=int(match.group(1))).first()
    if cluster is None or (migration_id is not None and cluster.migration_id != migration_id):
        return ""
    fix = cluster_fix(cluster=cluster, trace_id=match.group(2))
    return fix_example_prompt_text(cluster=cluster, fix=fix) if fix is not None else ""
