"""Cluster failure texts from a JSON Lines file without touching the database."""

import io
import json
import sys

from django.core.management.base import BaseCommand, CommandError

from triage.engine.clustering import DEFAULT_THRESHOLD, FailureText, cluster_failures, prepare_failure


class Command(BaseCommand):
    help = "Extract, normalise and cluster failures: JSON Lines {id, text, verifier?} in, one line per failure out."
    requires_system_checks = []
    requires_migrations_checks = False

    def add_arguments(self, parser):
        parser.add_argument("--input", required=True, help="input .jsonl file, or - for stdin")
        parser.add_argument("--output", required=True, help="output .jsonl file, or - for stdout")
        parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)

    def handle(self, *args, **options):
        if not 0.0 < options["threshold"] <= 1.0:
            raise CommandError("--threshold must be in (0, 1]")
        items = self._read(options["input"])
        clusters = cluster_failures(items, threshold=options["threshold"])
        by_id = {item.id: item for item in items}
        out = sys.stdout if options["output"] == "-" else open(options["output"], "w", encoding="utf-8")
        try:
            for cluster in clusters:
                for member in cluster.members:
                    item = by_id[member.id]
                    record = {
                        "id": member.id,
                        "cluster": cluster.key,
                        "cluster_title": cluster.title,
                        "snippet": item.snippet,
                        "signature": item.signature,
                        "why": member.why,
                        "score": member.score,
                    }
                    out.write(json.dumps(record, ensure_ascii=False) + "\n")
        finally:
            if out is not sys.stdout:
                out.close()
        self.stderr.write(f"{len(items)} failures in {len(clusters)} clusters")

    def _read(self, path: str) -> list[FailureText]:
        raw = sys.stdin.buffer if path == "-" else open(path, "rb")
        items: list[FailureText] = []
        seen: set[str] = set()
        try:
            # Undecodable bytes are replaced, never fatal: verifier output is arbitrary.
            for number, line in enumerate(io.TextIOWrapper(raw, encoding="utf-8", errors="replace"), start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    self.stderr.write(f"line {number}: invalid JSON ({exc.msg}); skipped")
                    continue
                if not isinstance(record, dict) or not isinstance(record.get("text"), str):
                    self.stderr.write(f"line {number}: missing string field 'text'; skipped")
                    continue
                item_id = str(record.get("id", f"line-{number}"))
                if item_id in seen:
                    self.stderr.write(f"line {number}: duplicate id {item_id!r}; skipped")
                    continue
                seen.add(item_id)
                verifier = record.get("verifier") if isinstance(record.get("verifier"), str) else None
                kind = "judge" if verifier == "judge" else "verify"
                repo = record.get("repo") if isinstance(record.get("repo"), str) else None
                items.append(prepare_failure(item_id, record["text"], verifier=verifier, repo=repo, kind=kind))
        finally:
            if raw is not sys.stdin.buffer:
                raw.close()
        return items
