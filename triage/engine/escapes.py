"""Read a log that arrived as an escaped JSON string back into its lines (pure).

A tool that answers with JSON and is cut off mid-answer leaves `{"output": "line one\\nline two\\n...`:
the JSON no longer parses, so the text is kept as it is, one long line with the log's lines escaped in it.
Such a line is decoded as the JSON string it was, so that its own lines can be read.
"""

import re

# A line holding this many escaped line breaks is a log written as one JSON string, not a line of a log.
MIN_ESCAPED_BREAKS = 3
_ESCAPE = re.compile(r"\\(?:u([0-9a-fA-F]{4})|([\"\\/bfnrt]))")
_SIMPLE = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


def _decode(match: re.Match[str]) -> str:
    if match.group(1):
        code = int(match.group(1), 16)
        # A lone half of a surrogate pair stands for nothing printable on its own.
        return "" if 0xD800 <= code <= 0xDFFF else chr(code)
    return _SIMPLE[match.group(2)]


# JSON around the string: an object's "key": "value, or the line opening with a string, object or list.
_JSONISH = re.compile(r'^\s*[{\["]|"[\w.-]+"\s*:\s*"')


def _escaped(line: str) -> bool:
    """A line that is a JSON string of several lines, not a log line that quotes a string with a break in it."""
    return line.count("\\n") >= MIN_ESCAPED_BREAKS and _JSONISH.search(line[:2000]) is not None


def unescape_json_lines(text: str) -> str:
    """The text with every line that is an escaped JSON string (several `\\n` in it) decoded; others unchanged."""
    if "\\n" not in text:
        return text
    lines = text.split("\n")
    changed = False
    for i, line in enumerate(lines):
        if "\\n" in line and _escaped(line):
            lines[i] = _ESCAPE.sub(_decode, line)
            changed = True
    return "\n".join(lines) if changed else text
