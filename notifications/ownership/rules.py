"""Who owns a repository: overrides, then CODEOWNERS, then the Backstage catalog, with the deciding source (pure)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

Source = Literal["override", "codeowners", "catalog", "none"]

# Where GitHub looks for CODEOWNERS, in its order of precedence: the caller reads the first that exists.
CODEOWNERS_LOCATIONS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")
PROJECT_SLUG_ANNOTATION = "github.com/project-slug"
SLACK_NOTIFY_ANNOTATION = "slack.com/bot-notify"
TEAM_HANDLE = re.compile(r"^@([A-Za-z0-9][A-Za-z0-9._-]*)/([A-Za-z0-9][A-Za-z0-9._-]*)$")
USER_HANDLE = re.compile(r"^@[A-Za-z0-9][A-Za-z0-9-]*$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


# -- CODEOWNERS -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TeamInfo:
    """A team's names as the catalog knows them: slug, display name and aliases."""

    slug: str
    name: str = ""
    aliases: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Rule:
    pattern: str
    owners: tuple[str, ...]
    line: int

    @property
    def teams(self) -> tuple[str, ...]:
        """Team slugs of the @org/team handles, in file order."""
        return tuple(m.group(2).lower() for o in self.owners if (m := TEAM_HANDLE.match(o)))

    def matches(self, path: str) -> bool:
        return _pattern_regex(self.pattern).match(path.lstrip("/")) is not None


@dataclass(frozen=True)
class CodeownersMatch:
    team: str | None
    rule: Rule | None
    detail: str


def _split_codeowners_line(raw: str) -> list[str]:
    # "\#" and "\ " escape a literal '#' or space in a path; an unescaped '#' starts a comment.
    tokens, current, i = [], "", 0
    while i < len(raw):
        ch = raw[i]
        if ch == "\\" and i + 1 < len(raw):
            current += raw[i + 1]
            i += 2
            continue
        if ch == "#":
            break
        if ch.isspace():
            if current:
                tokens.append(current)
            current = ""
        else:
            current += ch
        i += 1
    if current:
        tokens.append(current)
    return tokens


def parse_codeowners_with_warnings(text: str) -> tuple[list[Rule], list[str]]:
    """Rules in file order plus one warning per line GitHub would skip or owner it would ignore."""
    rules: list[Rule] = []
    warnings: list[str] = []
    for number, raw in enumerate((text or "").splitlines(), start=1):
        tokens = _split_codeowners_line(raw)
        if not tokens:
            continue
        pattern, owners = tokens[0], tokens[1:]
        if pattern.startswith("!") or "[" in pattern or "]" in pattern:
            warnings.append(f"CODEOWNERS line {number}: unsupported pattern {pattern!r}, line skipped")
            continue
        valid = []
        for owner in owners:
            if TEAM_HANDLE.match(owner) or USER_HANDLE.match(owner) or EMAIL.match(owner):
                valid.append(owner)
            else:
                warnings.append(f"CODEOWNERS line {number}: {owner!r} is not a user, team or email, ignored")
        rules.append(Rule(pattern=pattern, owners=tuple(valid), line=number))
    return rules, warnings


def parse_codeowners(text: str) -> list[Rule]:
    """Rules of a CODEOWNERS file in file order (malformed lines skipped)."""
    return parse_codeowners_with_warnings(text)[0]


_REGEX_CACHE: dict[str, re.Pattern[str]] = {}


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """Translate a CODEOWNERS (gitignore-style) pattern into a regex over repository-relative file paths."""
    cached = _REGEX_CACHE.get(pattern)
    if cached is not None:
        return cached
    body = pattern
    directory_only = body.endswith("/")
    body = body.strip("/") if directory_only else body.lstrip("/")
    anchored = pattern.startswith("/") or "/" in body
    out = ""
    i = 0
    while i < len(body):
        if body.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif body.startswith("**", i):
            out += ".*"
            i += 2
        elif body[i] == "*":
            out += "[^/]*"
            i += 1
        elif body[i] == "?":
            out += "[^/]"
            i += 1
        else:
            out += re.escape(body[i])
            i += 1
    prefix = "" if anchored else "(?:.*/)?"
    last_segment = body.rsplit("/", 1)[-1]
    if directory_only or body == "":
        suffix = "/.*"
    elif "*" in last_segment and "**" not in last_segment:
        # GitHub: "docs/*" owns docs/a.md but not docs/sub/b.md, unlike gitignore.
        suffix = ""
    else:
        suffix = "(?:/.*)?"
    regex = re.compile(f"^{prefix}{out}{suffix}$" if body else "^.*$")
    _REGEX_CACHE[pattern] = regex
    return regex


def _last_rule_for(rules: list[Rule], path: str) -> Rule | None:
    for rule in reversed(rules):
        if rule.matches(path):
            return rule
    return None


def codeowners_match(text: str, *, paths: list[str] | None = None) -> CodeownersMatch:
    """The team owning the migrated paths (or the whole repository), with the deciding rule."""
    rules = parse_codeowners(text)
    if not paths:
        root = next((r for r in reversed(rules) if r.pattern in {"*", "/*", "**", "/**"}), None)
        if root is None:
            return CodeownersMatch(None, None, "CODEOWNERS has no root '*' rule")
        if not root.teams:
            return CodeownersMatch(None, root, f"CODEOWNERS line {root.line} '*' names no team")
        return CodeownersMatch(root.teams[0], root, f"CODEOWNERS line {root.line}: * {' '.join(root.owners)}")
    votes: Counter[str] = Counter()
    deciding: dict[str, Rule] = {}
    for path in paths:
        rule = _last_rule_for(rules, path)
        if rule is not None and rule.teams:
            votes[rule.teams[0]] += 1
            deciding.setdefault(rule.teams[0], rule)
    if not votes:
        return CodeownersMatch(None, None, f"no CODEOWNERS rule names a team for {len(paths)} migrated path(s)")
    # Most paths wins; ties go to the team whose rule comes last in the file, as GitHub's last match would.
    team = max(votes, key=lambda t: (votes[t], deciding[t].line))
    rule = deciding[team]
    return CodeownersMatch(
        team, rule, f"CODEOWNERS line {rule.line}: {rule.pattern} (covers {votes[team]}/{len(paths)} migrated paths)"
    )


# -- Backstage catalog ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CatalogGroup:
    name: str
    display_name: str = ""
    aliases: tuple[str, ...] = ()
    notify_channel: str | None = None

    def team_info(self) -> TeamInfo:
        return TeamInfo(slug=self.name, name=self.display_name or self.name, aliases=self.aliases)


@dataclass(frozen=True)
class CatalogComponent:
    name: str
    repo: str
    owner: str | None
    notify_channel: str | None = None


@dataclass
class Catalog:
    components: dict[str, CatalogComponent] = field(default_factory=dict)
    groups: dict[str, CatalogGroup] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def component_for(self, repo: str) -> CatalogComponent | None:
        return self.components.get(repo.strip().lower())

    def team_info(self, slug: str) -> TeamInfo:
        """Names to match channels against: the Group's display name and aliases when the catalog knows it."""
        group = self.groups.get(slug.lower())
        return group.team_info() if group else TeamInfo(slug=slug, name=slug)

    def notify_channel(self, *, repo: str | None = None, team: str | None = None) -> str | None:
        """Explicit slack.com/bot-notify value: the component's first, then its owning group's."""
        component = self.component_for(repo) if repo else None
        if component and component.notify_channel:
            return component.notify_channel
        group = self.groups.get((team or (component.owner if component else "") or "").lower())
        return group.notify_channel if group else None

    def merge(self, other: Catalog) -> None:
        self.components.update(other.components)
        self.groups.update(other.groups)
        self.warnings.extend(other.warnings)


def _owner_team(owner: Any) -> str | None:
    """Team name of an entity ref "group:default/x", "group:x" or "x"; None for users or other kinds."""
    if not isinstance(owner, str) or not owner.strip():
        return None
    ref = owner.strip().lower()
    kind, _, rest = ref.partition(":") if ":" in ref else ("group", "", ref)
    if kind != "group":
        return None
    return rest.rsplit("/", 1)[-1] or None


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def add_entity(catalog: Catalog, entity: Any, *, origin: str) -> None:
    """Add one decoded catalog entity (Component or Group); anything unusable becomes a warning."""
    if entity is None:
        return
    if not isinstance(entity, dict):
        catalog.warnings.append(f"{origin}: entity is not a mapping, skipped")
        return
    kind = str(entity.get("kind") or "").lower()
    metadata, spec = _as_dict(entity.get("metadata")), _as_dict(entity.get("spec"))
    annotations = _as_dict(metadata.get("annotations"))
    name = str(metadata.get("name") or "").strip()
    notify = annotations.get(SLACK_NOTIFY_ANNOTATION)
    notify = str(notify).strip() if notify else None
    if kind == "group":
        if not name:
            catalog.warnings.append(f"{origin}: Group without metadata.name, skipped")
            return
        profile = _as_dict(spec.get("profile"))
        display = str(profile.get("displayName") or metadata.get("title") or "").strip()
        raw_aliases = metadata.get("aliases") or []
        aliases = [str(a) for a in raw_aliases] if isinstance(raw_aliases, list) else [str(raw_aliases)]
        if metadata.get("title") and str(metadata["title"]) != display:
            aliases.append(str(metadata["title"]))
        group = CatalogGroup(name.lower(), display, tuple(a for a in aliases if a.strip()), notify)
        catalog.groups[group.name] = group
    elif kind == "component":
        slug = annotations.get(PROJECT_SLUG_ANNOTATION)
        if not isinstance(slug, str) or slug.count("/") != 1:
            catalog.warnings.append(f"{origin}: Component {name or '?'} has no {PROJECT_SLUG_ANNOTATION}, skipped")
            return
        owner = _owner_team(spec.get("owner"))
        if owner is None and spec.get("owner"):
            catalog.warnings.append(f"{origin}: Component {name} is owned by {spec.get('owner')!r}, not a group")
        repo = slug.strip().lower()
        catalog.components[repo] = CatalogComponent(name or repo, repo, owner, notify)


def parse_catalog(yaml_texts: Iterable[str] | str, *, origin: str = "catalog-info.yaml") -> Catalog:
    """Parse catalog-info.yaml texts (each possibly multi-document) into a Catalog; bad YAML becomes warnings."""
    catalog = Catalog()
    texts = [yaml_texts] if isinstance(yaml_texts, str) else list(yaml_texts)
    for index, text in enumerate(texts):
        where = origin if len(texts) == 1 else f"{origin}[{index}]"
        try:
            documents = list(yaml.safe_load_all(text))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            at = f" line {mark.line + 1}" if mark is not None else ""
            catalog.warnings.append(f"{where}{at}: invalid YAML ({getattr(exc, 'problem', None) or exc}), skipped")
            continue
        for entity in documents:
            add_entity(catalog, entity, origin=where)
    return catalog


def load_catalog_path(path: str | Path) -> Catalog:
    """Read one catalog YAML file, or every *.yaml/*.yml under a folder."""
    root = Path(path)
    files = sorted(p for p in root.rglob("*") if p.suffix in {".yaml", ".yml"}) if root.is_dir() else [root]
    catalog = Catalog()
    for file in files:
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            catalog.warnings.append(f"{file.name}: unreadable ({exc.__class__.__name__}), skipped")
            continue
        catalog.merge(parse_catalog([text], origin=str(file.relative_to(root)) if root.is_dir() else file.name))
    return catalog


# -- resolution chain -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ownership:
    team_slug: str | None
    source: Source
    detail: str
    warnings: tuple[str, ...] = ()


def resolve_owner(
    repo: str,
    *,
    overrides: dict[str, str] | None,
    codeowners_text: str | None,
    catalog: Catalog | None,
    paths: list[str] | None = None,
) -> Ownership:
    """Owning team of a repository: explicit override, then CODEOWNERS, then the Backstage catalog, else none."""
    warnings: list[str] = []
    wanted = repo.strip().lower()
    for key, team in (overrides or {}).items():
        if key.strip().lower() == wanted and team and team.strip():
            return Ownership(team.strip().lower(), "override", f"override for {repo}")
    tried: list[str] = []
    if codeowners_text:
        warnings.extend(parse_codeowners_with_warnings(codeowners_text)[1])
        found = codeowners_match(codeowners_text, paths=paths)
        if found.team:
            return Ownership(found.team, "codeowners", found.detail, tuple(warnings))
        tried.append(found.detail)
    else:
        tried.append("no CODEOWNERS file")
    if catalog is not None:
        component = catalog.component_for(repo)
        if component and component.owner:
            return Ownership(component.owner, "catalog", f"Backstage component {component.name} owner", tuple(warnings))
        tried.append("no owned Backstage component" if component is None else "catalog owner is not a group")
    return Ownership(None, "none", "; ".join(tried), tuple(warnings))
