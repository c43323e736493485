"""Verifier logs of npm, tsc, ESLint and Jest runs that fail, one render function per cause."""

import random

from runs.demo import buildlogs as b
from runs.demo.buildlogs_js_native import NPM_DEPRECATIONS, jest_progress, jest_summary, npm_fetches, npm_header
from runs.demo.entities import DemoRepo


def _npm_failure(rng: random.Random, repo: DemoRepo, script: str, error: list[str]) -> str:
    lines = npm_header(rng, repo)[:-3] + [f"> {repo.name}@1.0.0 {script}", ""] + error
    lines += [
        f"npm error Lifecycle script `{script}` failed with error:",
        "npm error code 2" if script == "build" else "npm error code 1",
        f"npm error path /home/runner/_work/{repo.name}/{repo.name}",
        f"npm error workspace {repo.name}@1.0.0",
        f"npm error location /home/runner/_work/{repo.name}/{repo.name}",
    ]
    return "\n".join(lines) + "\n"


def render_tsc_argument(rng: random.Random, repo: DemoRepo) -> str:
    error = []
    for _ in range(rng.randint(1, 4)):
        path = f"src/{rng.choice(('services', 'api', 'store', 'lib'))}/{b.camel(rng)}.ts"
        arg, param = rng.choice(
            (("string | undefined", "string"), ("number", "string"), ("Logger", "LoggerOptions"), ("Buffer", "string"))
        )
        error.append(
            f"{path}({rng.randint(5, 400)},{rng.randint(3, 60)}): error TS2345: Argument of type '{arg}' is not assignable to parameter of type '{param}'."
        )
    return _npm_failure(rng, repo, "build", ["> tsc -p tsconfig.build.json", ""] + error)


def render_tsc_property(rng: random.Random, repo: DemoRepo) -> str:
    error = []
    for _ in range(rng.randint(1, 4)):
        path = f"src/{rng.choice(('services', 'api', 'components', 'lib'))}/{b.camel(rng)}.ts{rng.choice(('', 'x'))}"
        prop, typ = rng.choice(
            (
                ("substr", "string"),
                ("flatMap", "ReadonlyArray<Event>"),
                ("headers", "Response"),
                ("child", 'typeof import("pino")'),
                ("abortSignal", "RequestInit"),
            )
        )
        error.append(
            f"{path}({rng.randint(5, 400)},{rng.randint(3, 60)}): error TS2339: Property '{prop}' does not exist on type '{typ}'."
        )
    return _npm_failure(rng, repo, "build", ["> tsc -p tsconfig.build.json", ""] + error)


def render_eslint(rng: random.Random, repo: DemoRepo) -> str:
    error, problems = [], 0
    for _ in range(rng.randint(1, 3)):
        error.append(
            f"/home/runner/_work/{repo.name}/{repo.name}/src/{rng.choice(('services', 'utils', 'hooks'))}/{b.camel(rng)}.ts"
        )
        for _ in range(rng.randint(1, 3)):
            problems += 1
            rule, msg = rng.choice(
                (
                    ("@typescript-eslint/no-unused-vars", f"'{b.word(rng)}Logger' is defined but never used"),
                    ("no-unused-vars", f"'{b.word(rng)}' is assigned a value but never used"),
                    ("@typescript-eslint/no-explicit-any", "Unexpected any. Specify a different type"),
                )
            )
            error.append(f"  {rng.randint(2, 300)}:{rng.randint(1, 50)}  error  {msg}  {rule}")
        error.append("")
    error.append(
        f"\u2716 {problems} problem{'s' if problems > 1 else ''} ({problems} error{'s' if problems > 1 else ''}, 0 warnings)"
    )
    return _npm_failure(rng, repo, "lint", ["> eslint . --max-warnings 0", ""] + error)


def render_jest(rng: random.Random, repo: DemoRepo) -> str:
    suite = f"src/{rng.choice(('services', 'api', 'utils'))}/{b.camel(rng)}.test.ts"
    describe, it = b.camel(rng), f"{b.word(rng)}s the {b.word(rng)} when {b.word(rng)} is {b.word(rng)}"
    expected, received = rng.choice((('"info"', '"INFO"'), ("200", "500"), ("true", "false"), ("3", "2")))
    line = rng.randint(12, 200)
    suites = rng.randint(40, 140)
    error = (
        ["> jest --ci", ""]
        + jest_progress(rng, rng.randint(20, suites))
        + [
            f"FAIL {suite}",
            f"  \u25cf {describe} \u203a {it}",
            "",
            "    expect(received).toBe(expected) // Object.is equality",
            "",
            f"    Expected: {expected}",
            f"    Received: {received}",
            "",
            f"      {line - 1} |     const result = await {b.word(rng)}(input);",
            f"    > {line} |     expect(result.{b.word(rng)}).toBe({expected});",
            "         |                           ^",
            f"      {line + 1} |   }});",
            "",
            f"      at Object.<anonymous> ({suite}:{line}:{rng.randint(20, 40)})",
            "",
        ]
        + jest_summary(rng, failed=1, suites=suites)
    )
    return _npm_failure(rng, repo, "test", error)


def render_eresolve(rng: random.Random, repo: DemoRepo) -> str:
    pkg, peer = rng.choice(
        (
            ("@testing-library/react@16.0.1", "react"),
            ("eslint-plugin-react-hooks@5.1.0", "eslint"),
            ("@nestjs/core@10.4.1", "reflect-metadata"),
            ("ts-jest@29.2.5", "typescript"),
        )
    )
    have, want = f"{rng.randint(16, 18)}.{rng.randint(0, 3)}.{rng.randint(0, 9)}", f"^{rng.randint(19, 20)}.0.0"
    lines = [
        "npm error code ERESOLVE",
        "npm error ERESOLVE unable to resolve dependency tree",
        "npm error",
        f"npm error While resolving: {repo.name}@1.0.0",
        f"npm error Found: {peer}@{have}",
        "npm error node_modules/" + peer,
        f'npm error   dev {peer}@"^{have}" from the root project',
        "npm error",
        "npm error Could not resolve dependency:",
        f'npm error peer {peer}@"{want}" from {pkg}',
        f"npm error node_modules/{pkg.rsplit('@', 1)[0]}",
        f'npm error   dev {pkg.rsplit("@", 1)[0]}@"^{pkg.rsplit("@", 1)[1]}" from the root project',
        "npm error",
        "npm error Fix the upstream dependency conflict, or retry",
        "npm error this command with --force or --legacy-peer-deps",
        "npm error to accept an incorrect (and potentially broken) dependency resolution.",
        "npm error",
        f"npm error For a full report see:\nnpm error /home/runner/.npm/_logs/2025-10-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}_{rng.randint(0, 59):02d}_{rng.randint(0, 59):02d}_{rng.randint(100, 999)}Z-eresolve-report.txt",
    ]
    return "\n".join(npm_fetches(rng, rng.randint(40, 160)) + rng.sample(NPM_DEPRECATIONS, 2) + lines) + "\n"


def render_npm_timeout(rng: random.Random, repo: DemoRepo) -> str:
    pkg = rng.choice(("@types/node", "typescript", "jest", "eslint", "@babel/core", "esbuild"))
    host = rng.choice(("registry.npmjs.org", "npm.acme.internal"))
    lines = (
        [f"npm verbose cwd /home/runner/_work/{repo.name}/{repo.name}", "npm verbose title npm ci"]
        + npm_fetches(rng, rng.randint(40, 160))
        + rng.sample(NPM_DEPRECATIONS, 3)
        + [
            "npm error code ETIMEDOUT",
            "npm error syscall connect",
            "npm error errno ETIMEDOUT",
            f"npm error network request to https://{host}/{pkg} failed, reason: connect ETIMEDOUT 104.16.{rng.randint(0, 255)}.{rng.randint(1, 254)}:443",
            "npm error network This is a problem related to network connectivity.",
            "npm error network In most cases you are behind a proxy or have bad network settings.",
            "npm error network",
            "npm error network If you are behind a proxy, please make sure that the",
            "npm error network 'proxy' config is set properly.  See: 'npm help config'",
        ]
    )
    return "\n".join(lines) + "\n"
