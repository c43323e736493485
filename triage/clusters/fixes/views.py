"""The cluster page's "How it was fixed elsewhere" section, loaded after the page because it reads traces from
MLflow, and its "Draft what to add to the prompt" button: POST, answered with the draft partial."""

from django.http import Http404, HttpResponseForbidden
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from triage.clusters import selectors
from triage.clusters.fixes.draft import DraftError, llm_settings, prompt_addition_draft
from triage.clusters.fixes.exemplars import cluster_fixes
from triage.clusters.services.actions import user_can_triage


@require_GET
def cluster_fixes_section(request, cluster_id: int):
    cluster = selectors.cluster_detail(cluster_id=cluster_id)
    if cluster is None:
        raise Http404("No cluster with this id")
    config = llm_settings()
    context = {
        "cluster": cluster,
        "migration": cluster.migration,
        "fixes": cluster_fixes(cluster=cluster),
        "fix_draft": config.configured,
        "fix_draft_model": config.model,
        "can_triage": user_can_triage(request.user),
    }
    return render(request, "triage/_fixes.html", context)


@require_POST
def cluster_fix_draft(request, cluster_id: int):
    cluster = selectors.cluster_detail(cluster_id=cluster_id)
    if cluster is None:
        raise Http404("No cluster with this id")
    if not user_can_triage(request.user):
        return HttpResponseForbidden("Only migration owners and admins draft prompt additions.")
    context = {"cluster": cluster, "draft": "", "draft_error": ""}
    found = cluster_fixes(cluster=cluster)
    try:
        context["draft"] = prompt_addition_draft(cluster=cluster, fixes=found.fixes, config=llm_settings())
    except DraftError as exc:
        context["draft_error"] = str(exc)
    return render(request, "triage/_fixes.html#draft", context)
