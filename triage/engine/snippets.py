"""The snippet and signature stored with each failed verifier call at import time."""

from triage.engine.extraction import extract_snippet
from triage.engine.normalize import normalize_text, signature


def snippet_and_signature(output: str, *, kind: str, repo: str) -> tuple[str, str]:
    """The lines that say why a verifier call failed, and the signature of their cause."""
    snippet = extract_snippet(output, verifier=kind or None)
    return snippet, signature(normalize_text(snippet, repo=repo))
