"""Group failure texts by cause: exact signature first, then TF-IDF similarity (pure, deterministic)."""

import re
from collections import Counter, OrderedDict, defaultdict
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize as l2_normalize

from triage.engine.extraction import extract_snippet
from triage.engine.normalize import normalize_text, signature

DEFAULT_THRESHOLD = 0.8
BATCH = 2_000
MAX_EXEMPLARS = 5
TOP_TERMS = 8
# Tokens: words, error codes, dotted names; masks like <path> carry no cause and are left out.
TOKEN_PATTERN = r"(?u)(?<![<\w])[A-Za-z_][\w.$-]*\w|\b[A-Z]+\d+\b"
_GENERIC_LINE = re.compile(
    r"BUILD FAILURE|BUILD FAILED|FAILURE: Build failed|COMPILATION ERROR|Compilation failure\W*$|^\W*\[ERROR\]\W*$"
    r"|Tests run:|There (?:are|were) test failures|-> \[Help|Finished: FAILURE|marked build as failure"
    r"|exit code|Process completed|^\W*\[(?:ERROR|INFO)\] Errors?:\s*$|^\W*\[ERROR\] Failures:\s*$"
    r"|npm ERR! (?:code|errno)|Command failed|^FAIL\b|could not compile"
    r"|For more information about (?:this|an) error|A complete log of this run|Run with --(?:stacktrace|info|debug|scan)"
    r"|Get more help at|short test summary info|^=+ FAILURES =+$",
    re.I,
)
_CAUSE_WORDS = re.compile(
    r"cannot find|does not exist|not found|undefined|mismatch|incompatible|expected|requires|differ|conflict"
    r"|could not resolve|unresolved|Exception|Error\b|error\[|error TS|error CS|violat|assert|panic|denied|no such",
    re.I,
)


@dataclass(frozen=True)
class FailureText:
    """One failure ready to cluster: its extracted snippet, normalised text and signature."""

    id: str
    snippet: str
    normalized: str
    signature: str
    kind: str = "verify"


@dataclass
class Member:
    """Why an item joined its cluster: exact signature of the representative, similar, or alone."""

    id: str
    why: str
    score: float


@dataclass
class Cluster:
    """A group of failures with the same cause."""

    key: str
    title: str
    top_terms: list[str]
    medoid_id: str
    signature: str
    members: list[Member]
    exemplars: list[str] = field(default_factory=list)
    kind: str = "verify"


@dataclass(frozen=True)
class ClusterExemplars:
    """What the app keeps per cluster so that new failures can join it without reclustering."""

    key: str
    signature: str
    exemplars: list[str]
    kind: str = "verify"


def prepare_failure(
    id: str, text: str | bytes, *, verifier: str | None = None, repo: str | None = None, kind: str = "verify"
) -> FailureText:
    """Extract, normalise and sign one raw failure text."""
    if kind == "judge" and verifier is None:
        verifier = "judge"
    snippet = extract_snippet(text, verifier)
    normalized = normalize_text(snippet, repo=repo)
    return FailureText(id=str(id), snippet=snippet, normalized=normalized, signature=signature(normalized), kind=kind)


def _vectorize(texts: list[str]) -> tuple[sparse.csr_matrix, TfidfVectorizer | None]:
    vectorizer = TfidfVectorizer(
        token_pattern=TOKEN_PATTERN, lowercase=False, ngram_range=(1, 2), sublinear_tf=True, dtype=np.float32
    )
    try:
        return vectorizer.fit_transform(texts).tocsr(), vectorizer
    except ValueError:
        # Every text is empty or only masks: nothing to compare on.
        return sparse.csr_matrix((len(texts), 1), dtype=np.float32), None


def _centroids(x: sparse.csr_matrix, labels: np.ndarray, weights: np.ndarray, k: int) -> sparse.csr_matrix:
    n = x.shape[0]
    member = sparse.csr_matrix((weights[:n], (labels[:n], np.arange(n))), shape=(k, n))
    return l2_normalize(member @ x).tocsr()


def _leader_clusters(x: sparse.csr_matrix, weights: np.ndarray, threshold: float) -> np.ndarray:
    """Assign each row (most frequent first) to the nearest centroid above threshold, or start a cluster."""
    n = x.shape[0]
    labels = np.full(n, -1, dtype=np.int64)
    k = 0
    cents = sparse.csr_matrix((0, x.shape[1]), dtype=np.float32)
    for start in range(0, n, BATCH):
        stop = min(n, start + BATCH)
        xb = x[start:stop]
        if k:
            sims = (xb @ cents.T).toarray()
            best = sims.argmax(axis=1)
            best_sim = sims[np.arange(stop - start), best]
        else:
            best = np.zeros(stop - start, dtype=np.int64)
            best_sim = np.zeros(stop - start)
        inner = (xb @ xb.T).toarray()
        leaders: list[int] = []
        for r in range(stop - start):
            if best_sim[r] >= threshold:
                labels[start + r] = best[r]
                continue
            if leaders:
                cand = inner[r, leaders]
                j = int(cand.argmax())
                if cand[j] >= threshold and cand[j] > best_sim[r]:
                    labels[start + r] = labels[start + leaders[j]]
                    continue
            labels[start + r] = k
            k += 1
            leaders.append(r)
        cents = _centroids(x[:stop], labels[:stop], weights[:stop], k)
    return labels


def _title(lines: list[str], weights: dict[str, float]) -> str:
    best, best_score = "", float("-inf")
    for i, line in enumerate(lines):
        tokens = set(re.findall(TOKEN_PATTERN, line))
        score = sum(weights.get(t, 0.0) for t in tokens) + (2.0 if _CAUSE_WORDS.search(line) else 0.0)
        score -= 5.0 if _GENERIC_LINE.search(line) else 0.0
        score -= 0.01 * i
        if score > best_score:
            best, best_score = line, score
    return best[:200]


def _cluster_kind(items: list[FailureText], threshold: float) -> list[Cluster]:
    counts = Counter(item.signature for item in items)
    by_sig: dict[str, FailureText] = {}
    for item in items:
        by_sig.setdefault(item.signature, item)
    sigs = sorted(counts, key=lambda s: (-counts[s], s))
    texts = [by_sig[s].normalized for s in sigs]
    x, vectorizer = _vectorize(texts)
    weights = np.array([counts[s] for s in sigs], dtype=np.float32)
    labels = _leader_clusters(x, weights, threshold)
    k = int(labels.max()) + 1 if len(labels) else 0
    cents = _centroids(x, labels, weights, k)
    score_to_centroid = np.asarray(x.multiply(cents[labels]).sum(axis=1)).ravel()
    vocab = vectorizer.get_feature_names_out() if vectorizer is not None else np.array([])

    groups: dict[int, list[int]] = defaultdict(list)
    for row, label in enumerate(labels):
        groups[int(label)].append(row)
    members_by_sig: dict[str, list[str]] = defaultdict(list)
    for item in items:
        members_by_sig[item.signature].append(item.id)
    # Ids in a stable order so that the output does not depend on the input order.
    for ids in members_by_sig.values():
        ids.sort()

    clusters = []
    for label, rows in groups.items():
        # Medoid: the distinct text closest to the centroid, ties to the most frequent.
        medoid_row = min(rows, key=lambda r: (-round(float(score_to_centroid[r]), 6), -weights[r], sigs[r]))
        medoid_sig = sigs[medoid_row]
        centroid = cents[label].toarray().ravel()
        top = np.argsort(-centroid, kind="stable")[:TOP_TERMS]
        top_terms = [str(vocab[t]) for t in top if centroid[t] > 0] if len(vocab) else []
        term_weights = {str(vocab[t]): float(centroid[t]) for t in cents[label].indices} if len(vocab) else {}
        members: list[Member] = []
        total = sum(counts[sigs[r]] for r in rows)
        for r in sorted(rows, key=lambda r: (r != medoid_row, -weights[r], sigs[r])):
            for item_id in members_by_sig[sigs[r]]:
                if total == 1:
                    members.append(Member(item_id, "alone", 1.0))
                elif r == medoid_row:
                    members.append(Member(item_id, "exact", 1.0))
                else:
                    members.append(Member(item_id, "similar", round(float(score_to_centroid[r]), 4)))
        exemplar_rows = [medoid_row] + [
            r for r in sorted(rows, key=lambda r: (-weights[r], sigs[r])) if r != medoid_row
        ]
        kind = by_sig[medoid_sig].kind
        clusters.append(
            Cluster(
                key=medoid_sig if kind == "verify" else signature(f"{kind}\n{medoid_sig}"),
                title=_title(by_sig[medoid_sig].normalized.splitlines(), term_weights),
                top_terms=top_terms,
                medoid_id=members_by_sig[medoid_sig][0],
                signature=medoid_sig,
                members=members,
                exemplars=[texts[r] for r in exemplar_rows[:MAX_EXEMPLARS]],
                kind=kind,
            )
        )
    return clusters


def cluster_failures(items: list[FailureText], *, threshold: float = DEFAULT_THRESHOLD) -> list[Cluster]:
    """Cluster failures; kinds never mix; largest cluster first, then by key."""
    by_kind: dict[str, list[FailureText]] = defaultdict(list)
    for item in items:
        by_kind[item.kind].append(item)
    clusters: list[Cluster] = []
    for kind in sorted(by_kind):
        clusters.extend(_cluster_kind(by_kind[kind], threshold))
    clusters.sort(key=lambda c: (-len(c.members), c.key))
    return clusters


@dataclass(frozen=True)
class _Index:
    """Fitted vectoriser and centroid matrix of one kind's clusters, reused while the clusters are unchanged."""

    candidates: list[ClusterExemplars]
    vectorizer: TfidfVectorizer | None
    centroids: sparse.csr_matrix


# A worker assigns new failures after every import; the clusters' exemplars rarely change in between,
# so the fit over them is kept (keyed by the exemplars themselves, so a hit gives the same answer).
_INDEX_CACHE: OrderedDict[tuple, _Index] = OrderedDict()
INDEX_CACHE_SIZE = 8


def _index_for(kind: str, candidates: list[ClusterExemplars]) -> _Index:
    cache_key = (kind, tuple((c.key, c.signature, tuple(c.exemplars)) for c in candidates))
    index = _INDEX_CACHE.get(cache_key)
    if index is not None:
        _INDEX_CACHE.move_to_end(cache_key)
        return index
    owners = [ci for ci, c in enumerate(candidates) for _ in c.exemplars]
    x, vectorizer = _vectorize([t for c in candidates for t in c.exemplars])
    n_ex = len(owners)
    member = sparse.csr_matrix((np.ones(n_ex), (owners, np.arange(n_ex))), shape=(len(candidates), n_ex))
    index = _Index(candidates, vectorizer, l2_normalize(member @ x).tocsr())
    _INDEX_CACHE[cache_key] = index
    while len(_INDEX_CACHE) > INDEX_CACHE_SIZE:
        _INDEX_CACHE.popitem(last=False)
    return index


def assign_failures(
    items: list[FailureText], clusters: list[ClusterExemplars], *, threshold: float = DEFAULT_THRESHOLD
) -> list[tuple[str | None, str, float]]:
    """For each new failure: (key of the cluster it joins or None to start one, why, score).

    New texts are compared in the term space fitted on the clusters' exemplars (terms only the new
    texts use carry no weight), so the fit can be reused until the clusters change.
    """
    exact: dict[tuple[str, str], str] = {}
    for cluster in clusters:
        exact.setdefault((cluster.kind, cluster.signature), cluster.key)
        for text in cluster.exemplars:
            exact.setdefault((cluster.kind, signature(text)), cluster.key)
    results: list[tuple[str | None, str, float] | None] = [None] * len(items)
    pending: dict[str, list[int]] = defaultdict(list)
    for i, item in enumerate(items):
        key = exact.get((item.kind, item.signature))
        if key is not None:
            results[i] = (key, "exact", 1.0)
        else:
            pending[item.kind].append(i)
    for kind, rows in pending.items():
        candidates = [c for c in clusters if c.kind == kind and c.exemplars]
        if not candidates:
            for i in rows:
                results[i] = (None, "alone", 0.0)
            continue
        index = _index_for(kind, candidates)
        if index.vectorizer is None:
            sims = np.zeros((len(rows), len(candidates)), dtype=np.float32)
        else:
            new = index.vectorizer.transform([items[i].normalized for i in rows])
            sims = (new @ index.centroids.T).toarray()
        for r, i in enumerate(rows):
            j = int(sims[r].argmax())
            score = float(sims[r, j])
            if score >= threshold:
                results[i] = (index.candidates[j].key, "similar", round(score, 4))
            else:
                results[i] = (None, "alone", round(score, 4))
    return [r if r is not None else (None, "alone", 0.0) for r in results]
