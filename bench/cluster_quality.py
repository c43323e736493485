"""Quality of failure grouping on labelled build logs (BUMP breaking dependency updates)."""

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import add_data_argument, data_path, read_jsonl_gz, require, use_data_dir  # noqa: E402
from triage.engine.clustering import DEFAULT_THRESHOLD, cluster_failures, prepare_failure  # noqa: E402


def _drain_labels(snippets: list[str]) -> list[str]:
    import logging

    from drain3 import TemplateMiner

    logging.getLogger("drain3").setLevel(logging.ERROR)
    miner = TemplateMiner()
    labels = []
    for snippet in snippets:
        ids = {miner.add_log_message(line.strip())["cluster_id"] for line in snippet.splitlines() if line.strip()}
        labels.append(",".join(map(str, sorted(ids))) or "empty")
    return labels


def _agglomerative_labels(snippets: list[str], distance: float) -> list[int]:
    from sklearn.cluster import AgglomerativeClustering
    from sklearn.feature_extraction.text import TfidfVectorizer

    x = TfidfVectorizer(sublinear_tf=True).fit_transform([s or "empty" for s in snippets]).toarray()
    model = AgglomerativeClustering(n_clusters=None, distance_threshold=distance, metric="cosine", linkage="average")
    return model.fit_predict(x).tolist()


def grouping_report(threshold: float) -> None:
    from sklearn.metrics import adjusted_rand_score, homogeneity_completeness_v_measure

    path = data_path("bump-dev.jsonl.gz")
    if not require(path):
        return
    rows = list(read_jsonl_gz(path))
    truth = [f"{r['failure_category']}|{r['dependency']}" for r in rows]
    items = [prepare_failure(r["id"], r["log"], verifier="maven", repo=r["repo"]) for r in rows]
    clusters = cluster_failures(items, threshold=threshold)
    label_of = {m.id: c.key for c in clusters for m in c.members}
    ours = [label_of[r["id"]] for r in rows]
    snippets = [item.snippet for item in items]
    results = {
        f"fleetui cluster_failures (t={threshold})": ours,
        "Drain3 TemplateMiner() template set": _drain_labels(snippets),
        "TF-IDF + Agglomerative (cos 0.5)": _agglomerative_labels(snippets, 0.5),
        "TF-IDF + Agglomerative normalised": _agglomerative_labels([i.normalized for i in items], 0.5),
    }
    print(
        f"\nGrouping on {path.name}: {len(rows)} Maven logs, truth = (failure_category, dependency), "
        f"{len(set(truth))} true groups"
    )
    print("Drain3 groups a log by the sorted set of template ids of its snippet lines.")
    header = f"{'method':40s} {'ARI':>6s} {'V':>6s} {'homog':>6s} {'compl':>6s} {'clusters':>9s}"
    print(header)
    print("-" * len(header))
    for name, labels in results.items():
        h, c, v = homogeneity_completeness_v_measure(truth, labels)
        print(f"{name:40s} {adjusted_rand_score(truth, labels):6.3f} {v:6.3f} {h:6.3f} {c:6.3f} {len(set(labels)):9d}")
    cause_purity_report(rows, truth, clusters)
    biggest = Counter(ours).most_common(5)
    titles = {c.key: c.title for c in clusters}
    print("largest clusters:")
    for key, size in biggest:
        print(f"  {size:4d}  {titles[key][:110]}")


# Lines that name the step that failed, not why: a title that is one of them does not name a cause.
GENERIC_TITLE = re.compile(
    r"^\W*(?:\[ERROR\] )?Failed to execute goal [\w.:-]+ \([^)]*\) on project \S+:?\s*$|Could not resolve all files"
    r"|In most cases you are behind a proxy|BUILD FAILURE|There are test failures|Please refer to|-> \[Help"
)


def cause_purity_report(rows: list[dict], truth: list[str], clusters) -> None:
    """Clusters of several failures that hold one true cause; titles that repeat or name only a wrapper."""
    truth_of = {r["id"]: t for r, t in zip(rows, truth, strict=True)}
    shared = [c for c in clusters if len(c.members) > 1]
    pure = [c for c in shared if len({truth_of[m.id] for m in c.members}) == 1]
    in_pure = sum(len(c.members) for c in pure)
    in_shared = sum(len(c.members) for c in shared)
    titles = Counter(c.title for c in clusters)
    repeated = sum(n for n in titles.values() if n > 1)
    generic = sum(1 for c in clusters if GENERIC_TITLE.search(c.title))
    print(
        f"cause purity: {len(pure)}/{len(shared)} clusters of several failures hold one true cause "
        f"({in_pure}/{in_shared} failures); {repeated} clusters share a title with another; "
        f"{generic} titles are a generic wrapper line"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    add_data_argument(parser)
    args = parser.parse_args()
    use_data_dir(args.data)
    grouping_report(args.threshold)


if __name__ == "__main__":
    main()
