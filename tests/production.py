"""The production shape as the Dockerfile, docker-compose.yml and .env.example describe it, rebuilt without a
Docker engine: the build context .dockerignore leaves, the image's build step, its runtime environment.

Used by tests/test_production_image.py and tests/organiser_portal/test_settings.py, which run the portal in
subprocesses with exactly these environments (never the test process's own).
"""

from __future__ import annotations

import fnmatch
import json
import os
import secrets
import shlex
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
BUILD_STATIC = "sh scripts/build_static.sh"


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    joined = DOCKERFILE.read_text().replace("\\\n", " ")
    lines = [line.strip() for line in joined.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def _env_instruction(arguments: str) -> dict[str, str]:
    return dict(pair.split("=", 1) for pair in shlex.split(arguments))


def dockerfile_env(*, before: str | None = None) -> dict[str, str]:
    """The image's ENV, or only what is set before the first RUN containing `before`."""
    env: dict[str, str] = {}
    for instruction, arguments in dockerfile_instructions():
        if before and instruction == "RUN" and before in arguments:
            break
        if instruction == "ENV":
            env |= _env_instruction(arguments)
    return env


def dockerfile_cmd() -> list[str]:
    return json.loads([arguments for instruction, arguments in dockerfile_instructions() if instruction == "CMD"][-1])


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def dotenv(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def documented_production_env() -> dict[str, str]:
    """.env.example with its two secrets made as its comments say: the .env a deployment starts from."""
    env = dotenv(ROOT / ".env.example")
    assert env["SECRET_KEY"] == "" and env["ANYMAIL_WEBHOOK_SECRET"] == "", "the example must not ship secrets"
    env["SECRET_KEY"] = secrets.token_urlsafe(50)
    env["ANYMAIL_WEBHOOK_SECRET"] = "anymail:" + secrets.token_urlsafe(32)
    return env


def bare_env(**values: str) -> dict[str, str]:
    """A process environment with nothing of the test run's in it: the tools on PATH (this venv's first) and
    `values`."""
    tools = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "/usr/bin:/bin")])
    return {"PATH": tools, "HOME": os.environ.get("HOME", "/tmp"), "LANG": "C.UTF-8", **values}


def _dockerignore_patterns() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    assert not any(p.startswith("!") for p in patterns), "exceptions (!) aren't modelled here"
    return patterns


def dockerignored(relative: str, patterns: list[str] | None = None) -> bool:
    """Whether .dockerignore keeps `relative` (a path under the repository) out of the build context: a pattern
    matches the path or a folder above it, and a leading **/ matches at any depth, the top included."""
    patterns = _dockerignore_patterns() if patterns is None else patterns
    parts = relative.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in patterns:
        forms = [pattern, pattern.removeprefix("**/")]
        if any(fnmatch.fnmatchcase(prefix, form) for prefix in prefixes for form in forms):
            return True
    return False


def copy_build_context(destination: Path) -> Path:
    """What `COPY . .` puts in the image's /app: the working tree less what .dockerignore excludes."""
    patterns = _dockerignore_patterns()
    for folder, subfolders, files in os.walk(ROOT):
        relative_folder = Path(folder).relative_to(ROOT)
        subfolders[:] = [d for d in subfolders if not dockerignored((relative_folder / d).as_posix(), patterns)]
        for name in files:
            relative = relative_folder / name
            if not dockerignored(relative.as_posix(), patterns):
                (destination / relative.parent).mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / relative, destination / relative)
    return destination


def build_image_app(destination: Path) -> Path:
    """The image's /app: the build context, then the Dockerfile's static-files step with the environment a
    `docker build` gives it (the Dockerfile's ENV before it, nothing else)."""
    assert any(i == "RUN" and a.startswith(BUILD_STATIC) for i, a in dockerfile_instructions()), (
        f"the Dockerfile no longer runs {BUILD_STATIC}: rebuild this test on its new build step"
    )
    copy_build_context(destination)
    done = subprocess.run(
        BUILD_STATIC.split(),
        cwd=destination,
        env=bare_env(**dockerfile_env(before=BUILD_STATIC)),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return destination


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def image_runtime_env(*, database_url: str, redis_url: str, **overrides: str) -> dict[str, str]:
    """What a portal container of docker-compose.yml runs with: the image's ENV, then .env (made from
    .env.example), then the service's `environment`, whose database and Redis (compose's own) are this test
    run's. `overrides` last."""
    dotenv_file = documented_production_env()
    env = dockerfile_env() | dotenv_file
    for name, value in compose()["services"]["web"]["environment"].items():
        if name in ("DATABASE_URL", "REDIS_URL", "CACHE_URL"):
            continue
        # ${NAME:?message} is interpolated from .env; anything else is taken as written.
        env[name] = dotenv_file[name] if str(value).startswith("${" + name) else str(value)
    urls = {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "CACHE_URL": redis_url}
    return bare_env(**(env | urls | overrides))
