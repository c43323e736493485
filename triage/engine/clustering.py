"""Group failure texts by cause: exact signature first, then TF-IDF similarity (pure, deterministic)."""

from __future__ import annotations

from collections import Counter, OrderedDict, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse

from triage.engine.batch import RawFailure, prepare_many
from triage.engine.causes import Cause, cause_of
from triage.engine.normalize import signature
from triage.engine.titles import best_line, group_title

if TYPE_CHECKING:  # scikit-learn loads on first use (below), not in every process at start: some 1.5 s
    from sklearn.feature_extraction.text import TfidfVectorizer


def _load_sklearn() -> None:
    import sklearn.feature_extraction.text  # noqa: F401


def l2_normalize(matrix):
    from sklearn.preprocessing import normalize

    return normalize(matrix)


DEFAULT_THRESHOLD = 0.8
BATCH = 2_000
MAX_EXEMPLARS = 5
MAX_TITLE = 200
# Cause keys kept per cluster so that a new failure of a known cause joins it exactly.
MAX_CAUSES = 200
TOP_TERMS = 8
# Members of a unit without a deciding line whose lines are compared for its title.
TITLE_SAMPLE = 24
# Tokens: words, error codes, dotted names; masks like <path> carry no cause and are left out.
TOKEN_PATTERN = r"(?u)(?<![<\w])[A-Za-z_][\w.$-]*\w|\b[A-Z]+\d+\b"


@dataclass(frozen=True)
class FailureText:
    """One failure ready to cluster: its extracted snippet, normalised text and signature."""

    id: str
    snippet: str
    normalized: str
    signature: str
    kind: str = "verify"
    cause: Cause | None = None

    def decided(self) -> Cause:
        """The failure's cause: given, or read from the snippet."""
        return self.cause if self.cause is not None else cause_of(self.snippet)


@dataclass
class Member:
    """Why an item joined its cluster: same cause or signature as the representative, similar, or alone."""

    id: str
    why: str
    score: float
    deciding_line: str = ""


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
    causes: list[str] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ClusterExemplars:
    """What the app keeps per cluster so that new failures can join it without reclustering."""

    key: str
    signature: str
    exemplars: list[str]
    kind: str = "verify"
    causes: tuple[str, ...] = ()
    tokens: tuple[str, ...] | None = None


def prepare_failure(
    id: str, text: str | bytes, *, verifier: str | None = None, repo: str | None = None, kind: str = "verify"
) -> FailureText:
    """Extract, normalise and sign one raw failure text."""
    return prepare_failures([RawFailure(str(id), text, verifier, repo, kind)], workers=1)[0]


def prepare_failures(failures: Sequence[RawFailure], *, workers: int | None = None) -> list[FailureText]:
    """`prepare_failure` of many failures, in order, over several processes when there are many."""
    prepared = prepare_many(failures, workers=workers, while_waiting=_load_sklearn)
    return [FailureText(str(f.id), *p[:3], kind=f.kind, cause=p[3]) for f, p in zip(failures, prepared, strict=True)]


def _vectorize(texts: list[str]) -> tuple[sparse.csr_matrix, TfidfVectorizer | None]:
    from sklearn.feature_extraction.text import TfidfVectorizer

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


def _unit_titles(
    group: list[FailureText], causes: dict[str, Cause], weights: dict[str, float], *, largest: bool
) -> list[str]:
    """The members' titles: their deciding lines as printed, or for the largest unit of a cluster without one
    (one signature), the line of the first snippet that says most and the same line of a few others shaped alike."""
    if causes[group[0].id].title:
        return [causes[item.id].title for item in group]
    lines = [[x.strip() for x in item.snippet.splitlines() if x.strip()] for item in group[:TITLE_SAMPLE]]
    if all(len(own) == 1 for own in lines):
        return [own[0] for own in lines]  # one line each (a judge's rationale): it is the title
    if not largest or not lines[0]:
        return []
    at = lines[0].index(best_line(lines[0], weights))
    return [own[at] for own in lines if len(own) == len(lines[0])]


def _unit_of(item: FailureText, cause: Cause) -> str:
    """Failures of one cause, or with no deciding line of one signature, always share a cluster."""
    return f"cause\n{cause.key}" if cause.key else f"signature\n{item.signature}"


def _partitions(tokens: list[tuple[str, ...]]) -> list[list[int]]:
    """Rows grouped by the tokens that name their cause, in row order: only rows of one group may merge."""
    groups: dict[tuple[str, ...], list[int]] = {}
    for row, names in enumerate(tokens):
        groups.setdefault(names, []).append(row)
    return list(groups.values())


def _partitioned_leaders(
    x: sparse.csr_matrix, weights: np.ndarray, tokens: list[tuple[str, ...]], threshold: float
) -> np.ndarray:
    labels = np.full(x.shape[0], -1, dtype=np.int64)
    k = 0
    for rows in _partitions(tokens):
        if len(rows) == 1:
            labels[rows[0]] = k
            k += 1
            continue
        index = np.array(rows)
        local = _leader_clusters(x[index], weights[index], threshold)
        labels[index] = local + k
        k += int(local.max()) + 1
    return labels


def _distinct_titles(clusters: list[Cluster]) -> None:
    """Two clusters never carry one title: the later one adds the term that tells it apart."""
    seen: dict[str, int] = Counter()
    for cluster in sorted(clusters, key=lambda c: (-len(c.members), c.key)):
        seen[cluster.title] += 1
        if seen[cluster.title] > 1:
            extra = next((t for t in cluster.top_terms if t not in cluster.title), cluster.key[:8])
            cluster.title = f"{cluster.title[: MAX_TITLE - len(extra) - 3]} [{extra}]"


def _cluster_kind(items: list[FailureText], threshold: float) -> list[Cluster]:
    causes = {item.id: item.decided() for item in items}
    unit_items: dict[str, list[FailureText]] = defaultdict(list)
    for item in items:
        unit_items[_unit_of(item, causes[item.id])].append(item)
    units = sorted(unit_items, key=lambda u: (-len(unit_items[u]), u))
    reps: list[FailureText] = []
    for unit in units:
        group = sorted(unit_items[unit], key=lambda i: i.id)
        counts = Counter(i.signature for i in group)
        best = min(counts, key=lambda s: (-counts[s], s))
        reps.append(next(i for i in group if i.signature == best))
        unit_items[unit] = group
    texts = [rep.normalized for rep in reps]
    tokens = [tuple(sorted(set(causes[rep.id].tokens))) for rep in reps]
    x, vectorizer = _vectorize(texts)
    weights = np.array([len(unit_items[u]) for u in units], dtype=np.float32)
    labels = _partitioned_leaders(x, weights, tokens, threshold)
    k = int(labels.max()) + 1 if len(labels) else 0
    cents = _centroids(x, labels, weights, k)
    score_to_centroid = np.asarray(x.multiply(cents[labels]).sum(axis=1)).ravel()
    vocab = vectorizer.get_feature_names_out() if vectorizer is not None else np.array([])

    groups: dict[int, list[int]] = defaultdict(list)
    for row, label in enumerate(labels):
        groups[int(label)].append(row)

    clusters = []
    for label, rows in groups.items():
        # Medoid: the distinct text closest to the centroid, ties to the most frequent.
        medoid_row = min(rows, key=lambda r: (-round(float(score_to_centroid[r]), 6), -weights[r], units[r]))
        medoid = reps[medoid_row]
        centroid = cents[label].toarray().ravel()
        top = np.argsort(-centroid, kind="stable")[:TOP_TERMS]
        top_terms = [str(vocab[t]) for t in top if centroid[t] > 0] if len(vocab) else []
        term_weights = {str(vocab[t]): float(centroid[t]) for t in cents[label].indices} if len(vocab) else {}
        members: list[Member] = []
        total = sum(len(unit_items[units[r]]) for r in rows)
        ordered = sorted(rows, key=lambda r: (r != medoid_row, -weights[r], units[r]))
        for r in ordered:
            for item in unit_items[units[r]]:
                line = causes[item.id].line
                if total == 1:
                    members.append(Member(item.id, "alone", 1.0, line))
                elif r == medoid_row:
                    members.append(Member(item.id, "exact", 1.0, line))
                else:
                    members.append(Member(item.id, "similar", round(float(score_to_centroid[r]), 4), line))
        # The title is what the members' deciding lines share, the largest unit's first.
        by_size = sorted(rows, key=lambda r: (-weights[r], units[r]))
        titles = [
            _unit_titles(unit_items[units[r]], causes, term_weights, largest=k == 0) for k, r in enumerate(by_size)
        ]
        title = group_title(titles)
        kind = medoid.kind
        key_text = units[medoid_row] if kind == "verify" else f"{kind}\n{units[medoid_row]}"
        clusters.append(
            Cluster(
                key=signature(key_text),
                title=title[:MAX_TITLE],
                top_terms=top_terms,
                medoid_id=unit_items[units[medoid_row]][0].id,
                signature=medoid.signature,
                members=members,
                exemplars=[texts[r] for r in ordered[:MAX_EXEMPLARS]],
                kind=kind,
                causes=sorted({causes[reps[r].id].key for r in rows if causes[reps[r].id].key})[:MAX_CAUSES],
                tokens=list(tokens[medoid_row]),
            )
        )
    _distinct_titles(clusters)
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
    by_cause: dict[tuple[str, str], str] = {}
    exact: dict[tuple[str, str], str] = {}
    for cluster in clusters:
        for cause_key in cluster.causes:
            by_cause.setdefault((cluster.kind, cause_key), cluster.key)
        exact.setdefault((cluster.kind, cluster.signature), cluster.key)
        for text in cluster.exemplars:
            exact.setdefault((cluster.kind, signature(text)), cluster.key)
    results: list[tuple[str | None, str, float] | None] = [None] * len(items)
    pending: dict[str, list[int]] = defaultdict(list)
    causes = [item.decided() for item in items]
    for i, item in enumerate(items):
        # A known cause decides; a signature only when the failure has no deciding line (the same masked
        # text can hide two causes, say two versions of one artifact).
        if causes[i].key:
            key = by_cause.get((item.kind, causes[i].key))
        else:
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
        # Only clusters whose cause is named by the same tokens (or is not known) may take a failure.
        unknown = [j for j, c in enumerate(index.candidates) if c.tokens is None]
        by_tokens: dict[tuple[str, ...], list[int]] = defaultdict(list)
        for j, c in enumerate(index.candidates):
            if c.tokens is not None:
                by_tokens[tuple(sorted(set(c.tokens)))].append(j)
        for r, i in enumerate(rows):
            fits = by_tokens.get(tuple(sorted(set(causes[i].tokens))), []) + unknown
            if not fits:
                results[i] = (None, "alone", 0.0)
                continue
            scores = sims[r, fits]
            best = int(scores.argmax())
            j, score = fits[best], float(scores[best])
            if score >= threshold:
                results[i] = (index.candidates[j].key, "similar", round(score, 4))
            else:
                results[i] = (None, "alone", round(score, 4))
    return [r if r is not None else (None, "alone", 0.0) for r in results]
