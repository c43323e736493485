"""List pages: sortable column headers whose links keep every other filter in the query string, and a paginator
that takes its count from the page's tab counts instead of counting again."""

from dataclasses import dataclass
from functools import cached_property

from django.core.paginator import Paginator
from django.http import QueryDict


class CountedPaginator(Paginator):
    """A paginator told how many rows there are (e.g. the sum of the status tabs), saving its COUNT query."""

    def __init__(self, object_list, per_page, *, count: int, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self._known_count = count

    @cached_property
    def count(self) -> int:
        return self._known_count


@dataclass(frozen=True)
class Column:
    """A list column; `sort` is the sort key without its direction ("" when the column does not sort)."""

    label: str
    sort: str = ""
    descending_first: bool = True
    css: str = ""


@dataclass(frozen=True)
class Header:
    label: str
    css: str
    url: str = ""
    aria_sort: str = ""  # "ascending" / "descending" for the sorted column, as ARIA names them

    @property
    def arrow(self) -> str:
        return {"ascending": "▲", "descending": "▼"}.get(self.aria_sort, "")


def sort_headers(query: QueryDict, columns: list[Column], current: str) -> list[Header]:
    """Headers for `columns`: a sortable one links to its sort (flipped when it is the current one), page 1."""
    headers = []
    for column in columns:
        if not column.sort:
            headers.append(Header(column.label, column.css))
            continue
        asc, desc = column.sort, f"-{column.sort}"
        if current == asc:
            state, target = "ascending", desc
        elif current == desc:
            state, target = "descending", asc
        else:
            state, target = "", desc if column.descending_first else asc
        params = query.copy()
        params["order"] = target
        params.pop("page", None)
        headers.append(Header(column.label, column.css, "?" + params.urlencode(), state))
    return headers
