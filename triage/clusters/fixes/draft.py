"""Ask an OpenAI-compatible chat endpoint to draft what to add to the prompt, from a cause and its fixes.

One client for one vendor shape (`POST {FLEETUI_LLM_BASE_URL}/v1/chat/completions`), an explicit timeout,
and errors that say what went wrong. The reply is untrusted text: it is cleaned, capped, and only ever
shown escaped, marked as a draft.
"""

from __future__ import annotations

from dataclasses import dataclass

from fleetui.common.text import clean_text
from triage.clusters.fixes.exemplars import Fix
from triage.clusters.fixes.prompt import fix_example_prompt_text
from triage.clusters.models import FailureCluster

MAX_REPLY = 2_000
MAX_REQUEST_EXAMPLES = 3
SYSTEM = (
    "You help the owner of a code migration run by an AI agent across many repositories. Given a failure "
    "that keeps happening and how the agent fixed it in some repositories, write ONE short paragraph to add "
    "to the agent's prompt so it handles this case. Plain text, no preamble."
)


class DraftError(Exception):
    """The endpoint could not be reached, answered an error, or answered something that is not a reply."""


@dataclass(frozen=True)
class LLMSettings:
    base_url: str
    model: str
    api_key: str
    timeout: float = 20.0

    @property
    def configured(self) -> bool:
        return bool(self.base_url and self.model)


def llm_settings() -> LLMSettings:
    """The endpoint from settings; not configured when the base URL or the model is blank."""
    from django.conf import settings

    return LLMSettings(
        base_url=getattr(settings, "FLEETUI_LLM_BASE_URL", "") or "",
        model=getattr(settings, "FLEETUI_LLM_MODEL", "") or "",
        api_key=getattr(settings, "FLEETUI_LLM_API_KEY", "") or "",
        timeout=float(getattr(settings, "FLEETUI_LLM_TIMEOUT", 20) or 20),
    )


def draft_messages(*, cluster: FailureCluster, fixes: list[Fix]) -> list[dict[str, str]]:
    """The chat messages: the cause (title and example failure) and the worked examples."""
    cause = f"Failure: {cluster.title[:300]}\n\nExample output:\n{cluster.example_snippet[:3000]}"
    examples = "\n\n".join(fix_example_prompt_text(cluster=cluster, fix=fix) for fix in fixes[:MAX_REQUEST_EXAMPLES])
    return [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": f"{cause}\n\nHow it was fixed elsewhere:\n\n{examples or '(no fix found yet)'}"},
    ]


def prompt_addition_draft(*, cluster: FailureCluster, fixes: list[Fix], config: LLMSettings) -> str:
    """One paragraph the endpoint suggests adding to the prompt; raises DraftError."""
    import requests

    if not config.configured:
        raise DraftError("no LLM endpoint is configured (FLEETUI_LLM_BASE_URL, FLEETUI_LLM_MODEL)")
    base = config.base_url.rstrip("/")
    url = f"{base}/chat/completions" if base.endswith("/v1") else f"{base}/v1/chat/completions"
    headers = {"Authorization": f"Bearer {config.api_key}"} if config.api_key else {}
    body = {"model": config.model, "messages": draft_messages(cluster=cluster, fixes=fixes), "temperature": 0.2}
    try:
        response = requests.post(url, json=body, headers=headers, timeout=config.timeout)
    except requests.Timeout:
        raise DraftError(f"the LLM endpoint did not answer within {config.timeout:g} s") from None
    except requests.RequestException as exc:
        raise DraftError(f"the LLM endpoint could not be reached: {type(exc).__name__}") from None
    if response.status_code != 200:
        raise DraftError(f"the LLM endpoint answered HTTP {response.status_code}")
    try:
        content = response.json()["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        raise DraftError("the LLM endpoint's answer has no choices[0].message.content") from None
    if not isinstance(content, str) or not content.strip():
        raise DraftError("the LLM endpoint answered an empty draft")
    text = clean_text(content).strip()
    return text if len(text) <= MAX_REPLY else text[:MAX_REPLY].rstrip() + " …"
