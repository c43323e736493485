"""Ownership data of the demo fleet: Backstage catalog, CODEOWNERS files and the Slack channel list."""

import json
import random
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from runs.demo.entities import DemoFleet, DemoRepo, DemoTeam

GITHUB_ORG = "acme"

# Each team's channel, in the naming convention that team happened to pick; None: the team has none.
TEAM_CHANNELS = {
    "payments": "team-payments",
    "checkout": "squad_checkout",
    "identity": "identity-eng",
    "platform": "platform-alerts",
    "search": "team-search-discovery",
    "data-platform": "data-platform",
    "notifications": "notify-eng",
    "mobile-backend": "mobile_backend",
    "growth": None,
    "logistics": "squad-logistics",
    "risk": "risk-fraud-private",
    "billing": "billing",
    "observability": "o11y",
    "developer-experience": None,
}
# Teams whose catalog entry names their channel with the bot-notify annotation.
ANNOTATED = {"payments", "platform", "search", "observability", "billing", "risk"}
OTHER_CHANNELS = (
    ("general", False, False),
    ("random", False, False),
    ("incidents", False, False),
    ("deploys", False, False),
    ("payments-old", False, True),
    ("team-growth-2019", False, True),
    ("checkout-oncall", True, False),
    ("platform-eng", False, False),
)


@dataclass
class DemoOwnership:
    """Who owns what, as the catalog, CODEOWNERS and Slack will say it."""

    groups: list[dict]
    components: list[dict]
    codeowners: dict[str, str]
    channels: list[dict]
    unowned: list[str] = field(default_factory=list)
    disagreeing: list[str] = field(default_factory=list)


def _group(team: DemoTeam) -> dict:
    annotations = {"github.com/team-slug": f"{GITHUB_ORG}/{team.slug}"}
    channel = TEAM_CHANNELS.get(team.slug)
    if team.slug in ANNOTATED and channel:
        annotations["slack.com/bot-notify"] = f"#{channel}"
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Group",
        "metadata": {"name": team.slug, "description": f"The {team.display_name} team", "annotations": annotations},
        "spec": {
            "type": "team",
            "profile": {"displayName": team.display_name, "email": f"{team.slug}@acme.example"},
            "parent": "engineering",
            "children": [],
        },
    }


def _component(repo: DemoRepo, name: str) -> dict:
    kind = (
        "website"
        if repo.name.endswith(("-ui", "-web", "-portal"))
        else "library"
        if repo.name.endswith(("-sdk", "-cli"))
        else "service"
    )
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {
            "name": name,
            "annotations": {"github.com/project-slug": repo.full_name, "backstage.io/techdocs-ref": "dir:."},
            "tags": [repo.language.lower()],
        },
        "spec": {"type": kind, "lifecycle": "production", "owner": f"group:default/{repo.team}"},
    }


def _channel_id(rng: random.Random) -> str:
    return "C0" + "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(9))


def ownership_plan(fleet: DemoFleet) -> DemoOwnership:
    """Decide, deterministically from the fleet's seed, what each ownership source says."""
    rng = random.Random(f"ownership/{fleet.seed}")
    groups = [_group(team) for team in fleet.teams]
    components, codeowners, unowned, disagreeing, names = [], {}, [], [], set()
    slugs = [team.slug for team in fleet.teams]
    full_names = [repo.full_name for repo in fleet.repos]
    nobody = set(rng.sample(full_names, max(2, len(full_names) * 3 // 100)))
    # A team handed the repository over but never updated the catalog, or the other way round.
    handed_over = set(rng.sample(sorted(set(full_names) - nobody), max(2, len(full_names) * 4 // 100)))
    for repo in fleet.repos:
        if repo.full_name in nobody:
            unowned.append(repo.full_name)
            continue
        roll = rng.random()
        name = repo.name if repo.name not in names else f"{repo.owner}-{repo.name}"
        names.add(name)
        if roll < 0.9 or repo.full_name in handed_over:
            components.append(_component(repo, name))
        if roll >= 0.45 or repo.full_name in handed_over:
            team = repo.team
            if repo.full_name in handed_over:
                team = rng.choice([slug for slug in slugs if slug != repo.team])
                disagreeing.append(repo.full_name)
            lines = [f"# Owners of {repo.full_name}", f"* @{GITHUB_ORG}/{team}"]
            if rng.random() < 0.2:
                lines.append(f"/docs/ @{GITHUB_ORG}/developer-experience")
            if rng.random() < 0.15:
                lines.append(f"/.github/workflows/ @{GITHUB_ORG}/platform")
            codeowners[repo.full_name] = "\n".join(lines) + "\n"
    channels = []
    for slug in slugs:
        channel = TEAM_CHANNELS.get(slug)
        if channel:
            channels.append(
                {
                    "id": _channel_id(rng),
                    "name": channel,
                    "is_private": channel.endswith("private"),
                    "is_archived": False,
                }
            )
    for name, private, archived in OTHER_CHANNELS:
        channels.append({"id": _channel_id(rng), "name": name, "is_private": private, "is_archived": archived})
    channels.sort(key=lambda c: c["name"])
    return DemoOwnership(groups, components, codeowners, channels, unowned, disagreeing)


def ownership_write(*, fleet: DemoFleet, directory: Path) -> DemoOwnership:
    """Write catalog/<team>.yaml, codeowners/<owner>__<name> and slack-channels.json under directory."""
    plan = ownership_plan(fleet)
    catalog = directory / "catalog"
    codeowners = directory / "codeowners"
    for folder in (catalog, codeowners):
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.iterdir():
            if old.is_file():
                old.unlink()
    by_team: dict[str, list[dict]] = {group["metadata"]["name"]: [group] for group in plan.groups}
    for component in plan.components:
        by_team[component["spec"]["owner"].rsplit("/", 1)[1]].append(component)
    for team, documents in by_team.items():
        text = yaml.safe_dump_all(documents, sort_keys=False, explicit_start=True)
        (catalog / f"{team}.yaml").write_text(text, encoding="utf-8")
    for full_name, text in plan.codeowners.items():
        (codeowners / full_name.replace("/", "__")).write_text(text, encoding="utf-8")
    (directory / "slack-channels.json").write_text(json.dumps(plan.channels, indent=2) + "\n", encoding="utf-8")
    return plan
