"""Verifier logs of pytest, go and cargo runs that fail, one render function per cause."""

import random

from runs.demo import buildlogs as b
from runs.demo.buildlogs_js_native import cargo_header, go_downloads, go_ok_lines, pytest_header, pytest_progress
from runs.demo.entities import DemoRepo


def render_pytest_assertion(rng: random.Random, repo: DemoRepo) -> str:
    test_file = f"tests/unit/test_{b.snake(rng)}.py"
    test = f"test_{b.snake(rng)}_{b.word(rng)}"
    left, right = rng.choice((("'INFO'", "'info'"), ("404", "200"), ("None", "{'level': 'info'}"), ("3", "2")))
    count = rng.randint(40, 140)
    line = rng.randint(10, 300)
    lines = (
        pytest_header(rng, repo, count * 16)
        + pytest_progress(rng, repo, count, fail_at=rng.randint(0, count - 1))
        + [
            "",
            "=" * 32 + " FAILURES " + "=" * 33,
            "_" * 20 + f" {test} " + "_" * 20,
            "",
            "    def " + test + "(client):",
            f"        response = client.get('/{b.word(rng)}s/{rng.randint(1, 99)}')",
            f">       assert response.{b.word(rng)} == {right}",
            f"E       assert {left} == {right}",
            f"E        +  where {left} = <{b.camel(rng)} status={rng.randint(200, 500)}>.{b.word(rng)}",
            "",
            f"{test_file}:{line}: AssertionError",
            "=" * 25 + " short test summary info " + "=" * 25,
            f"FAILED {test_file}::{test} - assert {left} == {right}",
            "=" * 20 + f" 1 failed, {count * 16 - 1} passed in {rng.uniform(4, 200):.2f}s " + "=" * 20,
        ]
    )
    return "\n".join(lines) + "\n"


def render_pytest_import(rng: random.Random, repo: DemoRepo) -> str:
    module = rng.choice(
        ("structlog", "pythonjsonlogger", "pydantic.v1", f"{repo.python_package}.compat", "pkg_resources")
    )
    test_file = f"tests/{rng.choice(('unit', 'integration'))}/test_{b.snake(rng)}.py"
    err = "ModuleNotFoundError" if "." not in module or rng.random() < 0.5 else "ImportError"
    msg = (
        f"No module named '{module}'"
        if err == "ModuleNotFoundError"
        else f"cannot import name '{b.camel(rng)}' from '{module}'"
    )
    lines = pytest_header(rng, repo, 0)[:-2] + [
        f"collected {rng.randint(50, 600)} items / 1 error",
        "",
        "=" * 30 + " ERRORS " + "=" * 30,
        "_" * 15 + f" ERROR collecting {test_file} " + "_" * 15,
        f"ImportError while importing test module '/home/runner/_work/{repo.name}/{repo.name}/{test_file}'.",
        "Hint: make sure your test modules/packages have valid Python names.",
        "Traceback:",
        "/usr/lib/python3.12/importlib/__init__.py:90: in import_module",
        "    return _bootstrap._gcd_import(name[level:], package, level)",
        f"{test_file}:{rng.randint(1, 20)}: in <module>",
        f"    from {repo.python_package}.{b.word(rng)} import {b.snake(rng)}",
        f"src/{repo.python_package}/{b.word(rng)}.py:{rng.randint(1, 30)}: in <module>",
        f"    import {module}",
        f"E   {err}: {msg}",
        "=" * 25 + " short test summary info " + "=" * 25,
        f"ERROR {test_file}",
        "!" * 20 + " Interrupted: 1 error during collection " + "!" * 20,
        "=" * 20 + f" 1 error in {rng.uniform(1, 9):.2f}s " + "=" * 20,
    ]
    return "\n".join(lines) + "\n"


def render_go_undefined(rng: random.Random, repo: DemoRepo) -> str:
    pkg = f"{rng.choice(('internal', 'pkg'))}/{b.word(rng)}"
    ident = rng.choice(
        ("log.Printf", "zap.NewProductionConfig", "logger.Sugar", "slog.NewJSONHandlerOptions", "ioutil.ReadAll")
    )
    lines = go_downloads(rng) + [f"# {repo.go_module}/{pkg}"]
    for _ in range(rng.randint(1, 3)):
        lines.append(f"{pkg}/{b.snake(rng)}.go:{rng.randint(10, 400)}:{rng.randint(2, 40)}: undefined: {ident}")
    lines += go_ok_lines(rng, repo, rng.randint(20, 90)) + [f"FAIL\t{repo.go_module}/{pkg} [build failed]", "FAIL"]
    return "\n".join(lines) + "\n"


def render_go_test_fail(rng: random.Random, repo: DemoRepo) -> str:
    pkg = f"{repo.go_module}/internal/{b.word(rng)}"
    test = f"Test{b.camel(rng)}"
    sub = f"{b.word(rng)}_{b.word(rng)}"
    file = f"{b.snake(rng)}_test.go"
    got, want = rng.choice((('"INFO"', '"info"'), ("500", "200"), ("<nil>", "&{}"), ("3", "2")))
    lines = (
        go_downloads(rng)
        + go_ok_lines(rng, repo, rng.randint(20, 90))
        + [
            f"--- FAIL: {test} ({rng.uniform(0, 2):.2f}s)",
            f"    --- FAIL: {test}/{sub} ({rng.uniform(0, 1):.2f}s)",
            f"        {file}:{rng.randint(20, 300)}: got {got}, want {want}",
            "FAIL",
            f"FAIL\t{pkg}\t{rng.uniform(0.01, 3):.3f}s",
        ]
        + go_ok_lines(rng, repo, rng.randint(3, 20))
        + ["FAIL"]
    )
    return "\n".join(lines) + "\n"


def render_cargo_mismatched(rng: random.Random, repo: DemoRepo) -> str:
    expected, found = rng.choice(
        (("&str", "String"), ("Option<u64>", "u64"), ("tracing::Level", "&str"), ("Result<(), Error>", "()"))
    )
    file = f"src/{b.word(rng)}.rs"
    line = rng.randint(10, 500)
    lines = cargo_header(rng, repo) + [
        "error[E0308]: mismatched types",
        f"  --> {file}:{line}:{rng.randint(5, 50)}",
        "   |",
        f"{line} |         let {b.word(rng)} = {b.snake(rng)}(&config);",
        f"   |             {'-' * 5}   ^^^^^^ expected `{expected}`, found `{found}`",
        "   |",
        "   = note: expected type `" + expected + "`",
        "              found type `" + found + "`",
        "",
        "For more information about this error, try `rustc --explain E0308`.",
        f"error: could not compile `{repo.name}` (lib) due to 1 previous error",
    ]
    return "\n".join(lines) + "\n"
