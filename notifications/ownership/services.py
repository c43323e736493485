"""Resolve every repository's owning team through overrides, CODEOWNERS and the catalog, keeping the provenance."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from fleetui.common.errors import PermanentAPIError, TransientAPIError
from notifications.ownership.backstage import BackstageClient
from notifications.ownership.models import OwnershipOverride, RepositoryOwnership
from notifications.ownership.rules import CODEOWNERS_LOCATIONS, Catalog, load_catalog_path, resolve_owner
from runs.fleet.audit import audit_event_record
from runs.fleet.models import Repository, Team
from runs.github.client import GitHubClient

logger = logging.getLogger(__name__)

BATCH = 500

CodeownersReader = Callable[[str], str | None]


@dataclass
class OwnershipSummary:
    repositories: int = 0
    by_source: dict[str, int] = field(default_factory=dict)
    changed: int = 0
    kept: int = 0
    teams_created: int = 0
    warnings: list[str] = field(default_factory=list)


def catalog_load(*, catalog_path: str | Path | None = None) -> Catalog | None:
    """The Backstage catalog from a file or folder (argument, then setting), else from BACKSTAGE_URL, else None."""
    path = catalog_path or settings.FLEETUI_CATALOG_PATH
    if path:
        if not Path(path).exists():
            raise FileNotFoundError(f"catalog path {path} does not exist")
        return load_catalog_path(path)
    if settings.BACKSTAGE_URL:
        client = BackstageClient(
            settings.BACKSTAGE_URL, settings.BACKSTAGE_TOKEN or None, timeout=settings.GITHUB_TIMEOUT
        )
        return client.fetch_catalog()
    return None


def codeowners_reader_dir(directory: str | Path) -> CodeownersReader:
    """Read CODEOWNERS from a folder holding one file per repository, named `<owner>__<name>`."""
    root = Path(directory)

    def read(full_name: str) -> str | None:
        file = root / full_name.replace("/", "__")
        try:
            return file.read_text(encoding="utf-8") if file.is_file() else None
        except (OSError, UnicodeDecodeError):
            return None

    return read


def codeowners_reader_github(client) -> CodeownersReader:
    """Read CODEOWNERS through the GitHub contents API, from the first location GitHub itself would use."""

    def read(full_name: str) -> str | None:
        owner, _, name = full_name.partition("/")
        for location in CODEOWNERS_LOCATIONS:
            text = client.get_contents(owner, name, location)
            if text is not None:
                return text
        return None

    return read


def _default_reader(codeowners_dir: str | Path | None) -> CodeownersReader | None:
    if codeowners_dir:
        return codeowners_reader_dir(codeowners_dir)
    if settings.GITHUB_TOKEN:
        client = GitHubClient(settings.GITHUB_API_URL, settings.GITHUB_TOKEN, timeout=settings.GITHUB_TIMEOUT)
        return codeowners_reader_github(client)
    return None


def teams_sync_from_catalog(*, catalog: Catalog) -> int:
    """Create or update a Team per catalog Group (display name, aliases); returns how many were created."""
    existing = {t.slug: t for t in Team.objects.filter(slug__in=list(catalog.groups))}
    created, changed = [], []
    for slug, group in catalog.groups.items():
        name = group.display_name or slug
        aliases = list(group.aliases)
        team = existing.get(slug)
        if team is None:
            created.append(Team(slug=slug, name=name, aliases=aliases))
        elif team.name != name or list(team.aliases or []) != aliases:
            team.name, team.aliases = name, aliases
            changed.append(team)
    Team.objects.bulk_create(created, ignore_conflicts=True)
    Team.objects.bulk_update(changed, ["name", "aliases"])
    return len(created)


def ownership_resolve_all(
    *,
    repositories: Iterable[Repository] | None = None,
    codeowners_dir: str | Path | None = None,
    catalog_path: str | Path | None = None,
    catalog: Catalog | None = None,
    codeowners_reader: CodeownersReader | None = None,
) -> OwnershipSummary:
    """Resolve the owner of the given repositories (default: all) and store team, source and provenance."""
    summary = OwnershipSummary()
    if catalog is None:
        catalog = catalog_load(catalog_path=catalog_path)
    reader = codeowners_reader or _default_reader(codeowners_dir)
    if catalog is not None:
        summary.teams_created += teams_sync_from_catalog(catalog=catalog)
        summary.warnings.extend(catalog.warnings[:50])
    repos = list(repositories) if repositories is not None else list(Repository.objects.all())
    overrides = {
        o.repository_id: o.team.slug
        for o in OwnershipOverride.objects.filter(repository__in=[r.pk for r in repos]).select_related("team")
    }
    teams = {t.slug: t for t in Team.objects.all()}
    now = timezone.now()
    resolved: list[tuple[Repository, object]] = []
    for repo in repos:
        override = overrides.get(repo.pk)
        text = None
        if override is None and reader is not None:
            try:
                text = reader(repo.full_name)
            except TransientAPIError as exc:
                # A flaky read must not hand the repository to the catalog's owner: keep what we knew.
                summary.kept += 1
                summary.warnings.append(f"{repo.full_name}: CODEOWNERS not readable now ({exc}), ownership kept")
                continue
            except PermanentAPIError as exc:
                summary.warnings.append(f"{repo.full_name}: CODEOWNERS refused ({exc})")
        ownership = resolve_owner(
            repo.full_name,
            overrides={repo.full_name: override} if override else None,
            codeowners_text=text,
            catalog=catalog,
        )
        resolved.append((repo, ownership))
    missing = {o.team_slug for _, o in resolved if o.team_slug and o.team_slug not in teams}
    if missing:
        new = [Team(slug=slug, name=catalog.team_info(slug).name if catalog else slug) for slug in sorted(missing)]
        Team.objects.bulk_create(new, ignore_conflicts=True)
        summary.teams_created += len(new)
        teams = {t.slug: t for t in Team.objects.all()}
    changed_repos, records = [], []
    for repo, ownership in resolved:
        team = teams.get(ownership.team_slug) if ownership.team_slug else None
        summary.by_source[ownership.source] = summary.by_source.get(ownership.source, 0) + 1
        if repo.team_id != (team.pk if team else None) or repo.ownership_source != ownership.source:
            repo.team, repo.ownership_source = team, ownership.source
            changed_repos.append(repo)
        records.append(
            RepositoryOwnership(
                repository=repo,
                team=team,
                source=ownership.source,
                detail=ownership.detail[:2000],
                warnings=list(ownership.warnings),
                resolved_at=now,
            )
        )
    with transaction.atomic():
        Repository.objects.bulk_update(changed_repos, ["team", "ownership_source"], batch_size=BATCH)
        RepositoryOwnership.objects.bulk_create(
            records,
            batch_size=BATCH,
            update_conflicts=True,
            unique_fields=["repository"],
            update_fields=["team", "source", "detail", "warnings", "resolved_at"],
        )
    summary.repositories = len(resolved)
    summary.changed = len(changed_repos)
    logger.info("ownership resolved for %d repositories: %s", summary.repositories, summary.by_source)
    return summary


def ownership_override_set(*, repository: Repository, team: Team, user, reason: str = "") -> OwnershipOverride:
    """Set a repository's owner by hand and apply it at once."""

    override, _ = OwnershipOverride.objects.update_or_create(
        repository=repository, defaults={"team": team, "reason": reason[:500], "created_by": user}
    )
    Repository.objects.filter(pk=repository.pk).update(team=team, ownership_source="override")
    RepositoryOwnership.objects.update_or_create(
        repository=repository,
        defaults={
            "team": team,
            "source": "override",
            "detail": f"override for {repository.full_name}",
            "warnings": [],
            "resolved_at": timezone.now(),
        },
    )
    audit_event_record(
        actor=user, verb="ownership.override", target=repository, data={"team": team.slug, "reason": reason[:500]}
    )
    return override
