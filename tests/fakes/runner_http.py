"""A fake fleet service for the HTTP runner: checks the signature, remembers jobs by idempotency key."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from runs.reruns.runners.http import SIGNATURE_HEADER, signature_valid


class FakeFleetService:
    """Answers POST /jobs with a scripted status; GET /jobs/<key> walks through `poll_states`."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.jobs: dict[str, dict] = {}
        self.posts: list[dict] = []
        self.rejected_signatures = 0
        self.first_status = "succeeded"
        self.with_status_url = False
        self.poll_states: list[str] = []
        self.fail_next: list[int] = []
        self.lock = threading.Lock()
        self.url = ""

    def handle(self, handler: BaseHTTPRequestHandler) -> tuple[int, dict]:
        with self.lock:
            if self.fail_next:
                return self.fail_next.pop(0), {"error": "scripted failure"}
            if handler.command == "POST" and handler.path == "/jobs":
                length = int(handler.headers.get("Content-Length") or 0)
                body = handler.rfile.read(length)
                if not signature_valid(self.secret, body, handler.headers.get(SIGNATURE_HEADER, "")):
                    self.rejected_signatures += 1
                    return 401, {"error": "bad signature"}
                job = json.loads(body)
                key = handler.headers.get("Idempotency-Key", "")
                self.posts.append({"key": key, "job": job})
                if key not in self.jobs:
                    self.jobs[key] = {"id": f"job-{len(self.jobs) + 1}", "status": self.first_status, "job": job}
                return 202, self._answer(key)
            if handler.command == "GET" and handler.path.startswith("/jobs/"):
                key = handler.path.removeprefix("/jobs/")
                if key not in self.jobs:
                    return 404, {"error": "no such job"}
                if self.poll_states:
                    self.jobs[key]["status"] = self.poll_states.pop(0)
                return 200, self._answer(key)
        return 404, {"error": "not found"}

    def _answer(self, key: str) -> dict:
        job = self.jobs[key]
        answer = {"id": job["id"], "status": job["status"]}
        if job["status"] == "failed":
            answer.update(error="tests failed in the fleet service", exit_code=2, output="BUILD FAILURE")
        if self.with_status_url:
            answer["status_url"] = f"{self.url}/jobs/{key}"
        return answer


@contextmanager
def serve_fleet_service(secret: str) -> Iterator[FakeFleetService]:
    """Run the fake on 127.0.0.1 on a free port; `service.url` is its base address."""
    service = FakeFleetService(secret)

    class Handler(BaseHTTPRequestHandler):
        def _reply(self) -> None:
            status, payload = service.handle(self)
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _reply

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    service.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield service
    finally:
        server.shutdown()
        server.server_close()
