"""A small fake of the Kubernetes batch/v1 Jobs API: create (409 on a repeated name) and read status."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

JOBS = re.compile(r"^/apis/batch/v1/namespaces/(?P<ns>[a-z0-9-]+)/jobs(?:/(?P<name>[a-z0-9.-]+)(?P<status>/status)?)?$")


def status_object(code: int, reason: str, message: str) -> dict:
    """A meta/v1 Status, the body the API server sends with every error."""
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


class FakeKubernetes:
    """Jobs by namespace and name; each job's status walks through `script` (one entry per status read)."""

    def __init__(self) -> None:
        self.jobs: dict[tuple[str, str], dict] = {}
        self.creates: list[str] = []
        self.conflicts = 0
        self.script: list[str] = ["active", "succeeded"]
        self.fail_next: list[int] = []
        self.reads: dict[str, int] = {}
        self.lock = threading.Lock()

    def handle(self, method: str, path: str, body: bytes) -> tuple[int, dict]:
        match = JOBS.match(path.split("?")[0])
        with self.lock:
            if self.fail_next:
                code = self.fail_next.pop(0)
                return code, status_object(code, "InternalError", "scripted failure")
            if not match:
                return 404, status_object(404, "NotFound", "the server could not find the requested resource")
            ns, name = match["ns"], match["name"]
            if method == "POST" and name is None:
                job = json.loads(body)
                job_name = job["metadata"]["name"]
                self.creates.append(job_name)
                if (ns, job_name) in self.jobs:
                    self.conflicts += 1
                    return 409, status_object(409, "AlreadyExists", f'jobs.batch "{job_name}" already exists')
                job.setdefault("status", {})
                job["metadata"]["uid"] = f"uid-{len(self.jobs) + 1}"
                self.jobs[(ns, job_name)] = {"job": job, "script": list(self.script)}
                return 201, job
            if method == "GET" and name is not None:
                entry = self.jobs.get((ns, name))
                if entry is None:
                    return 404, status_object(404, "NotFound", f'jobs.batch "{name}" not found')
                self.reads[name] = self.reads.get(name, 0) + 1
                step = entry["script"].pop(0) if len(entry["script"]) > 1 else entry["script"][0]
                entry["job"]["status"] = _status(step)
                return 200, entry["job"]
        return 405, status_object(405, "MethodNotAllowed", "method not allowed")

    def env_of(self, name: str, namespace: str = "fleet-agents") -> dict[str, str]:
        container = self.jobs[(namespace, name)]["job"]["spec"]["template"]["spec"]["containers"][0]
        return {e["name"]: e["value"] for e in container.get("env", [])}


def _status(step: str) -> dict:
    now = "2026-01-01T00:00:00Z"
    if step == "succeeded":
        return {
            "succeeded": 1,
            "conditions": [{"type": "Complete", "status": "True", "lastTransitionTime": now}],
        }
    if step == "failed":
        return {
            "failed": 1,
            "conditions": [
                {
                    "type": "Failed",
                    "status": "True",
                    "reason": "BackoffLimitExceeded",
                    "message": "Job has reached the specified backoff limit",
                    "lastTransitionTime": now,
                }
            ],
        }
    return {"active": 1, "startTime": now}


@contextmanager
def serve_kubernetes() -> Iterator[tuple[FakeKubernetes, str]]:
    """Serve the fake on 127.0.0.1 on a free port; yields the fake and its base URL."""
    fake = FakeKubernetes()

    class Handler(BaseHTTPRequestHandler):
        def _reply(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            status, payload = fake.handle(self.command, self.path, self.rfile.read(length) if length else b"")
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
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
