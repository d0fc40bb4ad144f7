"""Shared readers of deploy/: the Dockerfiles (parsed by Docker's own parser) and the Helm
chart (rendered by Helm's Go SDK, no cluster and no helm binary needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dockerfile
import helm_python as helm
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
CHART = DEPLOY / "helm" / "supertonic"
DOCKERFILES = (DEPLOY / "docker" / "Dockerfile", DEPLOY / "docker" / "Dockerfile.cuda")


def final_stage(path: Path) -> list[dockerfile.Command]:
    """The instructions of the last stage (the image that runs)."""
    commands = dockerfile.parse_file(str(path))
    last_from = max(i for i, c in enumerate(commands) if c.cmd == "FROM")
    return list(commands[last_from:])


def image_env(path: Path) -> dict[str, str]:
    """The ENV of the image's final stage, as ``docker run`` would see it."""
    env: dict[str, str] = {}
    for command in final_stage(path):
        if command.cmd == "ENV":
            pairs = command.value
            env.update(zip(pairs[::2], pairs[1::2], strict=True))
    return env


def instruction(path: Path, name: str) -> dockerfile.Command:
    (found,) = [c for c in final_stage(path) if c.cmd == name]
    return found


def render(values: dict[str, Any] | None = None, **kw: Any) -> list[dict[str, Any]]:
    """Every manifest the chart renders with ``values``, parsed."""
    with helm.Chart.load(str(CHART)) as chart:
        files = chart.render(values or {}, name=kw.get("name", "tts"), namespace="voice")
    docs: list[dict[str, Any]] = []
    for name, text in sorted(files.items()):
        if name.endswith(".yaml"):
            docs.extend(d for d in yaml.safe_load_all(text) if d)
    return docs


def values_file(name: str) -> dict[str, Any]:
    return yaml.safe_load((CHART / name).read_text())


def of_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    (found,) = [d for d in docs if d["kind"] == kind]
    return found
