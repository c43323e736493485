"""Pages: the GitHub webhook endpoint and pull-request sync runs."""

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from fleetui.common.roles import MIGRATION_OWNER, role_required, user_has_role
from runs.github import selectors
from runs.github.deliveries import webhook_delivery_store
from runs.github.payloads import InvalidSignature, parse_delivery
from runs.github.sync import pull_request_sync_enqueue

SYNC_RUNS_SHOWN = 20
SYNC_ERRORS_PER_PAGE = 50

# -- webhooks ----------------------------------------------------------------------------------------------------


@csrf_exempt
@require_POST
def github_webhook(request):
    """Verifies a delivery, stores it once per delivery id and queues its processing; never calls GitHub."""
    secret = settings.GITHUB_WEBHOOK_SECRET
    if not secret:
        message = "GitHub webhooks are not configured here: set GITHUB_WEBHOOK_SECRET to the webhook's secret"
        return JsonResponse({"error": message}, status=503)
    if not request.headers.get("X-Hub-Signature-256"):
        return JsonResponse({"error": "missing X-Hub-Signature-256 header"}, status=401)
    try:
        parsed = parse_delivery(secret=secret, headers=request.headers, body=request.body)
    except InvalidSignature:
        return JsonResponse({"error": "X-Hub-Signature-256 does not match this delivery"}, status=401)
    except ValueError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    event = request.headers.get("X-GitHub-Event", "").strip()
    if event == "ping":
        return JsonResponse({"status": "pong"})
    delivery_id = request.headers.get("X-GitHub-Delivery", "").strip()
    if not delivery_id:
        return JsonResponse({"error": "missing X-GitHub-Delivery header"}, status=400)
    delivery, created = webhook_delivery_store(delivery_id=delivery_id, event_name=event, parsed=parsed)
    if not created:
        return JsonResponse({"status": "duplicate"})
    return JsonResponse({"status": "queued" if parsed is not None else "ignored", "delivery": delivery.delivery_id})


# -- sync --------------------------------------------------------------------------------------------------------


def _sync_run_or_404(run_id: int):
    run = selectors.pull_request_sync_run_get(run_id=run_id)
    if run is None:
        raise Http404("No pull request sync run with this id")
    return run


def pull_request_sync_page(request):
    runs = list(selectors.pull_request_sync_run_list()[:SYNC_RUNS_SHOWN])
    run = None
    if request.GET.get("run", "").isdigit():
        run = _sync_run_or_404(int(request.GET["run"]))
    elif runs:
        run = runs[0]
    errors = None
    if run is not None:
        errors = Paginator(selectors.pull_request_sync_error_list(run=run), SYNC_ERRORS_PER_PAGE).get_page(
            request.GET.get("page")
        )
    context = {
        "nav": "pull-requests",
        "runs": runs,
        "run": run,
        "page": errors,
        "can_sync": user_has_role(request.user, MIGRATION_OWNER),
    }
    return render(request, "github/sync.html", context)


def pull_request_sync_status(request, run_id: int):
    """The status partial the sync page polls while the run is not done."""
    return TemplateResponse(request, "github/sync.html#status", {"run": _sync_run_or_404(run_id)})


@require_POST
@role_required(MIGRATION_OWNER)
def pull_request_sync_start(request):
    run = pull_request_sync_enqueue(trigger="manual", user=request.user)
    messages.success(request, f"Pull request sync #{run.pk} queued; this page refreshes until it is done.")
    return redirect(f"{reverse('pull-request-sync')}?run={run.pk}")
