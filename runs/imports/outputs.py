"""What a tool span says it printed and how it ended, in every output shape MLflow's integrations write.

Pure: no ORM. The shapes, and where each comes from (see docs/trace-convention.md):

- `{"result": "<text>"}`: MLflow's Claude Code tracing (`mlflow.claude_code.tracing`) writes every
  tool span so, with the tool_result content of the transcript; the Agent SDK path turns a list
  result into its Python `str()` first, which is read back here.
- `{"result": [{"type": "text", "text": ...}, ...]}`: the transcript's content blocks kept as a list.
- `{"content": ... , "isError": true}`: an MCP `CallToolResult`; `content` may be text or blocks.
- `{"stdout": ..., "stderr": ..., "exit_code"/"returncode"/"exitCode": N, "interrupted": ...}`: shell
  tools that report their streams (Claude Code's own `toolUseResult`, harness-written spans).
- `{"output": ...}`, a bare string, or a bare list of text blocks.
- `is_error` / `isError` in the outputs or the span's attributes.
- An exit code written in the text itself: Claude Code starts a failed Bash result with
  `Exit code 1` (or `Error: Exit code 1`); other harnesses end it with `(exit code 1)`,
  `Process exited with code 1`, `exit status 1`.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from typing import Any

EXIT_CODE_KEYS = ("exit_code", "exitCode", "returncode", "return_code", "exit_status")
ERROR_KEYS = ("is_error", "isError")
# Python's repr of a list is only parsed back below this size: literal_eval is slow on huge input.
MAX_REPR_PARSE = 5_000_000
MAX_JSON_PARSE = 50_000_000
MAX_NESTING = 8

_LEADING_EXIT = re.compile(r"\A\s*(?:Error:\s*)?Exit code:?\s+(-?\d{1,4})\s*$", re.IGNORECASE | re.MULTILINE)
_TRAILING_EXIT = re.compile(
    r"(?:\((?:exit code|exit status|exited with code)[:\s]\s*(-?\d{1,4})\)"
    r"|^(?:Error:\s*)?(?:Process (?:completed|exited|finished) with (?:exit )?code|Exit code:?|exit status|Command exited with code)\s+(-?\d{1,4})\.?)"
    r"\s*\Z",
    re.IGNORECASE | re.MULTILINE,
)


@dataclass
class ToolOutput:
    text: str
    exit_code: int | None = None
    is_error: bool | None = None
    shape: str = ""


def tool_output(outputs: Any, attributes: dict[str, Any] | None = None) -> ToolOutput:
    """The text, exit code and error flag of a tool span's outputs, in any of the shapes above."""
    found = _read(outputs, depth=0)
    if found.is_error is None:
        flag = _error_flag(attributes or {})
        if flag is not None:
            found.is_error = flag
    if found.exit_code is None:
        found.exit_code = exit_code_in_text(found.text)
    return found


def exit_code_in_text(text: str) -> int | None:
    """An exit code a harness wrote into the output: on its first line, or at its very end."""
    head = text[:200]
    match = _LEADING_EXIT.match(head)
    if match:
        return int(match.group(1))
    match = _TRAILING_EXIT.search(text[-300:])
    if match:
        return int(match.group(1) or match.group(2))
    return None


def _read(value: Any, *, depth: int) -> ToolOutput:
    if value is None:
        return ToolOutput("", shape="none")
    if isinstance(value, str):
        return _read_string(value, depth=depth)
    if isinstance(value, list):
        return ToolOutput(_join_blocks(value), shape="blocks")
    if not isinstance(value, dict) or depth > MAX_NESTING:
        return ToolOutput(_dump(value), shape="other")
    exit_code = next((code for key in EXIT_CODE_KEYS if (code := _as_code(value.get(key))) is not None), None)
    is_error = _error_flag(value)
    if "stdout" in value or "stderr" in value:
        parts = [_text_of(value.get(key), depth) for key in ("stdout", "stderr")]
        found = ToolOutput("\n".join(part for part in parts if part), shape="streams")
    elif "result" in value:
        found = _read(value["result"], depth=depth + 1)
        found.shape = f"result:{found.shape}"
    elif "content" in value:
        found = _read(value["content"], depth=depth + 1)
        found.shape = f"content:{found.shape}"
    elif "output" in value:
        found = _read(value["output"], depth=depth + 1)
        found.shape = f"output:{found.shape}"
    else:
        return ToolOutput(_dump(value), exit_code=exit_code, is_error=is_error, shape="other")
    if exit_code is not None:
        found.exit_code = exit_code
    if is_error is not None:
        found.is_error = is_error
    return found


def _read_string(text: str, *, depth: int) -> ToolOutput:
    # Only the ends are looked at first: outputs can be hundreds of megabytes.
    head, tail = text[:64].lstrip(), text[-64:].rstrip()
    # The Agent SDK path stores a list result as str(list): "[{'type': 'text', 'text': '...'}]".
    # A JSON list of blocks reads the same way.
    if head.startswith("[{") and tail.endswith("}]") and len(text) <= MAX_REPR_PARSE:
        blocks = _literal(text.strip())
        if isinstance(blocks, list) and blocks and all(_is_text_block(block) for block in blocks):
            return ToolOutput(_join_blocks(blocks), shape="text:repr-blocks")
    # Some harnesses write the whole tool result as a JSON string.
    if head.startswith("{") and tail.endswith("}") and len(text) <= MAX_JSON_PARSE and depth < MAX_NESTING:
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            data = None
        if isinstance(data, dict) and any(key in data for key in ("stdout", "stderr", "result", "content")):
            found = _read(data, depth=depth + 1)
            found.shape = f"text:json:{found.shape}"
            return found
    return ToolOutput(text, shape="text")


def _literal(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
        return None


def _text_of(value: Any, depth: int) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return _read(value, depth=depth + 1).text


def _is_text_block(block: Any) -> bool:
    return isinstance(block, dict) and isinstance(block.get("text"), str)


def _join_blocks(blocks: list[Any]) -> str:
    texts = []
    for block in blocks:
        if _is_text_block(block):
            texts.append(block["text"])
        elif isinstance(block, str):
            texts.append(block)
        elif isinstance(block, dict) and isinstance(block.get("content"), str | list):
            # A tool_result block inside a list: {"type": "tool_result", "content": ...}.
            texts.append(block["content"] if isinstance(block["content"], str) else _join_blocks(block["content"]))
    return "".join(texts)


def _error_flag(data: dict[str, Any]) -> bool | None:
    for key in ERROR_KEYS:
        if isinstance(data.get(key), bool):
            return data[key]
    return None


def _as_code(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d{1,4}\s*", value):
        return int(value)
    return None


def _dump(value: Any) -> str:
    try:
        return json.dumps(value, default=str)
    except (TypeError, ValueError, RecursionError):
        return str(value)
