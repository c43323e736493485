"""Recognise the file edits an agent made in a trace, and pick those that touched a failure's cause (pure).

Claude Code and the Claude Agent SDK log their edit tools as spans named `tool_Edit`, `tool_MultiEdit`
and `tool_Write` (inputs `file_path`, `old_string`/`new_string`, `edits`, `content`). Other agents'
edit tools are recognised by their inputs: a path with old and new text (`str_replace` editors:
`path`, `old_str`, `new_str`), a path with whole-file content, or an `apply_patch` patch text. Text
comes from outside: it is cleaned (no NUL or lone surrogates), binary content is replaced by a note,
and every string is capped.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from fleetui.common.text import cap_text, clean_text

MAX_TEXT = 4_000
MAX_PATH = 500
MAX_EDITS_PER_SPAN = 20
MAX_EDITS_PER_TRACE = 50
MAX_DIFF_LINES = 40
MAX_DIFF_LINE = 300

FILE_KEYS = ("file_path", "path", "filePath", "file", "filename", "target_file")
PAIRS = (("old_string", "new_string"), ("old_str", "new_str"), ("old_text", "new_text"), ("oldText", "newText"))
CONTENT_KEYS = ("content", "file_text", "contents", "text")
# Whole-file content is an edit only for tools that say they write; a path with "text" is too common otherwise.
WRITE_NAMES = re.compile(r"write|create|save|edit|file", re.IGNORECASE)
PATCH_KEYS = ("patch", "input", "diff")
BINARY_NOTE = "[binary content, {size} characters, not shown]"


@dataclass(frozen=True)
class Edit:
    """One change to one file: the text before and after (before is empty when the file was written whole)."""

    file: str
    before: str
    after: str

    def as_dict(self) -> dict[str, str]:
        return {"file": self.file, "before": self.before, "after": self.after}

    @property
    def diff(self) -> list[tuple[str, str]]:
        """The edit as a capped unified diff, for pages."""
        return edit_diff(self)


def span_edits(name: str, inputs: Any, *, tool_name: str = "") -> list[Edit]:
    """The edits one tool span made, from its name (or `tool_name` attribute) and inputs; [] when none."""
    inputs = _as_dict(inputs)
    if inputs is None:
        return []
    tool = _tool(tool_name or name)
    found: list[Edit] = []
    path = _first_text(inputs, FILE_KEYS)
    command = inputs.get("command") if isinstance(inputs.get("command"), str) else ""
    if command in ("view", "undo_edit", "read"):
        return []
    if path and isinstance(inputs.get("edits"), list):
        for item in inputs["edits"][:MAX_EDITS_PER_SPAN]:
            pair = _pair(item) if isinstance(item, dict) else None
            if pair is not None:
                found.append(_edit(path, *pair))
    elif path and (pair := _pair(inputs)) is not None:
        found.append(_edit(path, *pair))
    elif path and command == "insert" and isinstance(inputs.get("new_str"), str):
        found.append(_edit(path, "", inputs["new_str"]))
    elif path and (content := _first_value(inputs, CONTENT_KEYS)) is not None and WRITE_NAMES.search(tool):
        found.append(_edit(path, "", content))
    elif tool.lower() in ("apply_patch", "patch", "applypatch") or "apply_patch" in str(inputs.get("command", "")):
        patch = _first_value(inputs, PATCH_KEYS)
        if patch is None and isinstance(inputs.get("command"), list):
            patch = next((part for part in inputs["command"] if isinstance(part, str) and "\n" in part), None)
        if isinstance(patch, str):
            found.extend(patch_edits(patch))
    return found[:MAX_EDITS_PER_SPAN]


def trace_edits(spans: Iterable[Any]) -> list[Edit]:
    """Every edit of a trace's spans, in span order, capped at MAX_EDITS_PER_TRACE."""
    found: list[Edit] = []
    for span in spans:
        span_type = str(getattr(span, "span_type", "") or "")
        if span_type not in ("TOOL", "UNKNOWN", ""):
            continue
        attributes = getattr(span, "attributes", None) or {}
        tool_name = attributes.get("tool_name") if isinstance(attributes, dict) else ""
        found.extend(span_edits(str(getattr(span, "name", "") or ""), span.inputs, tool_name=str(tool_name or "")))
        if len(found) >= MAX_EDITS_PER_TRACE:
            return found[:MAX_EDITS_PER_TRACE]
    return found


def patch_edits(patch: str) -> list[Edit]:
    """Edits of an `apply_patch` patch (`*** Update File: path` sections) or a unified diff (`+++ b/path`)."""
    patch = patch[: MAX_TEXT * 10]
    sections: list[tuple[str, list[str]]] = []
    for line in patch.splitlines():
        header = re.match(r"^\*\*\* (?:Update|Add) File: (.+)$", line) or re.match(r"^\+\+\+ (?:b/)?(.+?)\s*$", line)
        if header and header.group(1) != "/dev/null":
            sections.append((header.group(1).strip(), []))
        elif sections and not line.startswith(("*** ", "--- ", "diff --git", "index ")):
            sections[-1][1].append(line)
    edits = []
    for path, lines in sections[:MAX_EDITS_PER_SPAN]:
        before = [line[1:] for line in lines if line[:1] in (" ", "-")]
        after = [line[1:] for line in lines if line[:1] in (" ", "+")]
        if before or after:
            edits.append(_edit(path, "\n".join(before), "\n".join(after)))
    return edits


def cause_terms(*, tokens: Iterable[str] = (), lines: Iterable[str] = ()) -> list[str]:
    """Lower-cased names a fixing edit would mention: the cause's tokens and the names on its deciding lines."""
    terms: list[str] = []
    for token in tokens:
        token = str(token).lower().strip()
        terms.append(token)
        terms.extend(part for part in re.split(r"[:/\\\s]+", token) if len(part) >= 4)
    for line in lines:
        line = str(line)[:2000]
        for path in re.findall(r"[\w./\\-]+\.[A-Za-z]{1,6}\b", line):
            base = re.split(r"[/\\]", path)[-1].lower()
            if len(base) >= 5 and not re.match(r"^\d", base):
                terms.append(base)
        for quoted in re.findall(r"['\"`‘]([\w.:@/-]{3,120})['\"`’]", line):
            terms.append(quoted.lower())
        for coordinate in re.findall(r"\b[\w.-]+:[\w.-]+(?::[\w.-]+)*\b", line):
            if "." in coordinate:
                terms.extend(part.lower() for part in coordinate.split(":")[:2] if len(part) >= 4)
    seen: dict[str, None] = {}
    for term in terms:
        if len(term) >= 3 and term not in seen:
            seen[term] = None
    return list(seen)[:40]


def edit_score(edit: Edit, terms: list[str]) -> int:
    """How strongly an edit relates to the cause: its file named by a term counts most, then terms in its text."""
    file = edit.file.lower()
    base = re.split(r"[/\\]", file)[-1]
    text = f"{edit.before}\n{edit.after}".lower()
    score = 0
    for term in terms:
        if term == base or (("/" in term or "." in term) and file.endswith(term)):
            score += 3
        elif term in file:
            score += 2
        elif term in text:
            score += 1
    return score


def edits_for_cause(edits: list[Edit], terms: list[str], *, limit: int = 5) -> tuple[list[Edit], bool]:
    """The edits that touched the cause, best first, or else all edits in order; and whether any touched it."""
    scored = [(edit_score(edit, terms), index, edit) for index, edit in enumerate(edits)]
    related = [item for item in scored if item[0] > 0]
    if related:
        related.sort(key=lambda item: (-item[0], item[1]))
        return [edit for _, _, edit in related[:limit]], True
    return edits[:limit], False


def edit_diff(edit: Edit, *, max_lines: int = MAX_DIFF_LINES) -> list[tuple[str, str]]:
    """A unified diff of the edit as (kind, line) pairs, kind one of hunk/del/add/ctx/more; at most max_lines."""
    lines = list(
        difflib.unified_diff(
            edit.before.splitlines(), edit.after.splitlines(), fromfile="before", tofile="after", lineterm="", n=2
        )
    )[2:]
    out: list[tuple[str, str]] = []
    for line in lines[:max_lines]:
        kind = {"@": "hunk", "-": "del", "+": "add"}.get(line[:1], "ctx")
        out.append((kind, line if len(line) <= MAX_DIFF_LINE else line[:MAX_DIFF_LINE] + "…"))
    if len(lines) > max_lines:
        out.append(("more", f"… {len(lines) - max_lines} more lines"))
    return out


def _tool(name: str) -> str:
    name = name.removeprefix("tool_")
    return name.rsplit("__", 1)[-1]


def _as_dict(inputs: Any) -> dict | None:
    if isinstance(inputs, str) and inputs[:64].lstrip().startswith("{"):
        try:
            inputs = json.loads(inputs)
        except (ValueError, RecursionError):
            return None
    return inputs if isinstance(inputs, dict) else None


def _first_text(inputs: dict, keys: tuple[str, ...]) -> str:
    for key in keys:
        value = inputs.get(key)
        if isinstance(value, str | bytes) and value:
            return clean_text(value)[:MAX_PATH].strip()
    return ""


def _first_value(inputs: dict, keys: tuple[str, ...]) -> str | bytes | None:
    for key in keys:
        value = inputs.get(key)
        if isinstance(value, str | bytes):
            return value
    return None


def _pair(data: dict) -> tuple[Any, Any] | None:
    for old, new in PAIRS:
        if isinstance(data.get(old), str | bytes) and isinstance(data.get(new), str | bytes):
            return data[old], data[new]
    return None


def _edit(path: str, before: Any, after: Any) -> Edit:
    return Edit(file=path, before=_text(before), after=_text(after))


def _text(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        if b"\x00" in value[:8192]:
            return BINARY_NOTE.format(size=len(value))
        value = bytes(value).decode("utf-8", "replace")
    value = str(value)
    if "\x00" in value[:8192]:
        return BINARY_NOTE.format(size=len(value))
    return cap_text(clean_text(value), MAX_TEXT)[0]
