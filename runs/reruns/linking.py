"""Late links: items of recent batches whose new attempt arrived with a later import."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from runs.reruns.models import RerunBatch, RerunItem, RerunOutcome
from runs.reruns.services import rerun_results_link

LATE_LINK_WINDOW = timedelta(days=1)


def rerun_results_link_waiting() -> int:
    """After any import: link the items of recent batches still waiting for (or missing) their new attempt.

    Batches that finished more than LATE_LINK_WINDOW ago are left alone: a later attempt there is another story.
    """
    batch_ids = (
        RerunItem.objects.filter(
            outcome__in=(RerunOutcome.WAITING, RerunOutcome.NO_ATTEMPT),
            result_attempt__isnull=True,
            batch__finished_at__gte=timezone.now() - LATE_LINK_WINDOW,
        )
        .values_list("batch_id", flat=True)
        .distinct()
    )
    linked = 0
    for batch in RerunBatch.objects.filter(pk__in=list(batch_ids)):
        linked += rerun_results_link(batch=batch)
    return linked
