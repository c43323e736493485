"""Page: one decision on many pull requests of the review queue, always behind a confirmation with the count.

The selection is either the rows ticked on the page or every pull request matching the queue's filters (at most
MAX_BULK); the confirmation lists the pull requests by id, so what is confirmed is exactly what gets decided.
"""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from fleetui.common.redirects import next_url_or
from fleetui.common.roles import REVIEWER, role_required
from runs.fleet.models import Migration
from runs.reviews import selectors
from runs.reviews.filters import QueueFilters
from runs.reviews.models import ReviewDecision, ReviewPattern
from runs.reviews.services import review_decisions_bulk_record
from runs.reviews.views import tags_from_form

MAX_BULK = 200
FILTER_PREFIX = "filter_"


def _selected(request) -> tuple[list, int]:
    """(pull requests still awaiting review that were selected, how many matched before the cap)."""
    if request.POST.get("all_matching") == "1" and request.POST.get("confirm") != "yes":
        query = {
            key.removeprefix(FILTER_PREFIX): value
            for key, value in request.POST.items()
            if key.startswith(FILTER_PREFIX)
        }
        filters = QueueFilters.from_query(query)
        migration = Migration.objects.filter(slug=filters.migration).first() if filters.migration else None
        if filters.migration and migration is None:
            return [], 0
        queue = selectors.review_queue(migration=migration, filters=filters)
        return list(queue[:MAX_BULK]), selectors.review_queue_count(migration=migration, filters=filters)
    ids = [int(value) for value in request.POST.getlist("pr") if value.isdigit()][:MAX_BULK]
    prs = selectors.pull_requests_for_review(ids=ids)
    return prs, len(prs)


@require_POST
@role_required(REVIEWER)
def review_bulk(request):
    """First POST shows a confirmation with the count; the confirmed POST records the decisions."""
    decision = request.POST.get("decision") or ReviewDecision.Decision.APPROVE
    if decision not in ReviewDecision.Decision.values:
        decision = ReviewDecision.Decision.APPROVE
    prs, matched = _selected(request)
    back = next_url_or(request, reverse("reviews"))
    if not prs:
        messages.error(request, "Select at least one pull request still awaiting review.")
        return redirect(back)
    reason, tags = request.POST.get("reason", "").strip(), tags_from_form(request)
    changes = decision == ReviewDecision.Decision.REQUEST_CHANGES
    missing_reason = changes and not (reason or tags)
    if request.POST.get("confirm") != "yes" or missing_reason:
        context = {
            "nav": "reviews",
            "prs": prs,
            "matched": matched,
            "capped": matched > len(prs),
            "max_bulk": MAX_BULK,
            "decision": decision,
            "changes": changes,
            "next": back,
            "reason": reason,
            "missing_reason": missing_reason and request.POST.get("confirm") == "yes",
            "patterns": list(
                ReviewPattern.objects.filter(migration_id__in={pr.migration_id for pr in prs}).select_related(
                    "migration"
                )
            ),
        }
        return render(request, "reviews/bulk_confirm.html", context)
    created, problems = review_decisions_bulk_record(
        pull_requests=prs,
        decision=decision,
        reviewer=request.user,
        reason=reason,
        tags=tags,
        comment=changes and request.POST.get("comment") == "on",
    )
    if changes:
        messages.success(request, f"Requested changes on {len(created)} pull requests; their attempts can be rerun.")
    else:
        messages.success(request, f"Approved {len(created)} pull requests; marking them ready for review on GitHub.")
    for problem in problems[:10]:
        messages.error(request, problem)
    return redirect(back)
