"""The snippet and signature stored with each failed verifier call at import time."""

from triage.engine.extraction import extract_snippet, split_note
from triage.engine.normalize import normalize_text, signature


def snippet_and_signature(output: str, *, kind: str, repo: str, baseline: str | None = None) -> tuple[str, str]:
    """The lines that say why a verifier call failed, and the signature of their cause.

    baseline is the output of a passing run of the same verifier on the same repository, when one is
    known: lines the two share are left out of the snippet, and its last line says so.
    """
    snippet = extract_snippet(output, verifier=kind or None, baseline=baseline or None)
    # The note says how the snippet was cut, not why the call failed: it stays out of the signature.
    lines, _ = split_note(snippet)
    return snippet, signature(normalize_text(lines, repo=repo))
