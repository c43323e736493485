"""The snippet and signature stored with each failed verifier call at import time."""

import hashlib

from triage.extraction import extract_snippet


def snippet_and_signature(output: str, *, kind: str, repo: str) -> tuple[str, str]:
    """The lines that say why a verifier call failed, and the signature of their cause."""
    snippet = extract_snippet(output, verifier=kind or None)
    return snippet, hashlib.sha1(snippet.encode()).hexdigest()
