"""In-process fake of an OpenAI-compatible chat endpoint: POST /v1/chat/completions, scripted replies."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeLLM:
    """Answers chat completions with `reply`; records each request's headers and JSON body."""

    def __init__(self, reply: str = "Add the missing module to requirements.txt before running the tests.") -> None:
        self.reply = reply
        self.status = 200
        self.delay = 0.0
        self.raw: bytes | None = None
        self.requests: list[dict[str, Any]] = []
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeLLM:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                fake.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                if fake.delay:
                    time.sleep(fake.delay)
                if self.path != "/v1/chat/completions":
                    self._answer(404, b'{"error": {"message": "not found"}}')
                elif fake.status != 200:
                    self._answer(fake.status, b'{"error": {"message": "overloaded"}}')
                else:
                    payload = (
                        fake.raw
                        or json.dumps(
                            {
                                "id": "chatcmpl-1",
                                "object": "chat.completion",
                                "model": body.get("model"),
                                "choices": [
                                    {
                                        "index": 0,
                                        "message": {"role": "assistant", "content": fake.reply},
                                        "finish_reason": "stop",
                                    }
                                ],
                                "usage": {"prompt_tokens": 120, "completion_tokens": 40, "total_tokens": 160},
                            }
                        ).encode()
                    )
                    self._answer(200, payload)

            def _answer(self, status: int, payload: bytes) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
