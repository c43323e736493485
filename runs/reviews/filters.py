"""The review queue's filters and sort order, read from (and written back to) a page's query string."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from django.db.models import F, Q, QuerySet

from runs.fleet.layers import UNVERIFIABLE

# CI and GitHub review states as the GitHub sync stores them on a pull request; "none": nothing known yet.
CI_CHOICES = (("success", "passing"), ("failure", "failing"), ("pending", "running"), ("none", "no result"))
REVIEW_CHOICES = (
    ("none", "none yet"),
    ("review_required", "review required"),
    ("commented", "commented only"),
    ("approved", "approved"),
    ("changes_requested", "changes requested"),
)
# Whether the passing attempt verified anything (its layer, runs/fleet/layers.py): "careful" when no test ran.
CARE_CHOICES = (("careful", "needs a careful review"), ("verified", "verified by tests"))
NO_TEAM = "-"
MAX_SEARCH = 200

# Sort keys and the fields they order by; the pull request's id breaks ties so pages never overlap.
SORTS = {
    "age": ("attempt__ended_at",),
    "repo": ("repository__full_name",),
    "migration": ("migration__slug", "attempt__ended_at"),
    "team": ("repository__team__slug", "attempt__ended_at"),
    "ci": ("checks", "attempt__ended_at"),
}
DEFAULT_SORT = "age"


@dataclass(frozen=True)
class QueueFilters:
    """What the reviewer narrowed the queue to; every field is a query-string parameter of the same name."""

    migration: str = ""
    team: str = ""  # a team's slug, or NO_TEAM
    ci: str = ""
    review: str = ""
    q: str = ""  # part of the repository's name
    care: str = ""  # a CARE_CHOICES value
    order: str = DEFAULT_SORT  # a SORTS key, "-key" for descending

    @classmethod
    def from_query(cls, query, *, migration: str = "") -> QueueFilters:
        """Filters from a QueryDict (or dict); unknown values are dropped rather than refused."""

        def one(name: str) -> str:
            value = query.get(name, "")
            return value.strip() if isinstance(value, str) else ""

        ci, review, order, care = one("ci"), one("review"), one("order"), one("care")
        return cls(
            migration=migration or one("migration")[:200],
            team=one("team")[:200],
            ci=ci if ci in dict(CI_CHOICES) else "",
            review=review if review in dict(REVIEW_CHOICES) else "",
            q=" ".join(one("q").split())[:MAX_SEARCH],
            care=care if care in dict(CARE_CHOICES) else "",
            order=order if order.lstrip("-") in SORTS else DEFAULT_SORT,
        )

    @property
    def narrowed(self) -> bool:
        """True when a filter (not just the sort) is set."""
        return bool(self.migration or self.team or self.ci or self.review or self.q or self.care)

    def query(self, **changes: str) -> dict[str, str]:
        """The non-default parameters, with `changes` applied (a blank value drops a parameter)."""
        values = asdict(replace(self, **changes))
        return {
            name: value for name, value in values.items() if value and not (name == "order" and value == DEFAULT_SORT)
        }

    def sort_for(self, key: str) -> tuple[str, str]:
        """(order to link to, aria-sort) for a column: a click on the current column flips its direction."""
        current, descending = self.order.lstrip("-"), self.order.startswith("-")
        if current != key:
            return key, "none"
        return (key if descending else f"-{key}"), ("descending" if descending else "ascending")

    def apply(self, prs: QuerySet) -> QuerySet:
        """The pull requests that pass the filters, in the chosen order (the migration is applied by the caller)."""
        if self.team == NO_TEAM:
            prs = prs.filter(repository__team__isnull=True)
        elif self.team:
            prs = prs.filter(repository__team__slug=self.team)
        if self.ci == "none":
            prs = prs.exclude(checks__in=("success", "failure", "pending"))
        elif self.ci:
            prs = prs.filter(checks=self.ci)
        if self.review == "none":
            prs = prs.filter(Q(review="") | Q(review__isnull=True))
        elif self.review:
            prs = prs.filter(review=self.review)
        if self.q:
            prs = prs.filter(repository__full_name__icontains=self.q)
        if self.care == "careful":
            prs = prs.filter(attempt__layer=UNVERIFIABLE)
        elif self.care == "verified":
            prs = prs.exclude(attempt__layer=UNVERIFIABLE)
        key, descending = self.order.lstrip("-"), self.order.startswith("-")
        fields = [F(name).desc(nulls_last=True) if descending else F(name).asc(nulls_last=True) for name in SORTS[key]]
        return prs.order_by(*fields, F("id").desc() if descending else F("id").asc())
