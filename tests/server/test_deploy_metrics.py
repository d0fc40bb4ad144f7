"""Every metric the deploy/ files query (the Grafana dashboard, the KEDA triggers of the
Helm chart) is one the real server exports: a renamed metric breaks this test, not a
dashboard or an autoscaler in production."""

from __future__ import annotations

import json
import re
from pathlib import Path

import helm_python as helm
import httpx
import yaml
from prometheus_client.parser import text_string_to_metric_families

from .conftest import LiveServer, wait_for

CHART = Path(__file__).resolve().parents[2] / "deploy" / "helm" / "supertonic"
METRIC = re.compile(r"\bsupertonic_[a-z0-9_]+")
LONG = " ".join(["A sentence that keeps the only slot busy for a while."] * 40)


def queried_metrics() -> set[str]:
    dashboard = json.loads((CHART / "dashboards" / "supertonic.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    exprs += [v["query"] for v in dashboard["templating"]["list"] if "query" in v]
    with helm.Chart.load(str(CHART)) as chart:
        files = chart.render({"autoscaling": {"enabled": True}}, name="tts", namespace="voice")
    scaled = yaml.safe_load(files["supertonic/templates/scaledobject.yaml"])
    exprs += [t["metadata"]["query"] for t in scaled["spec"]["triggers"]]
    return {name for expr in exprs for name in METRIC.findall(expr)}


def test_the_dashboard_and_the_autoscaler_query_only_exported_metrics(busy: LiveServer) -> None:
    with httpx.Client(base_url=busy.base_url, timeout=60) as client:
        with client.stream(
            "POST", "/v1/audio/speech", json={"input": LONG, "response_format": "pcm"}
        ) as holding:
            pieces = holding.iter_bytes()  # kept referenced: dropping it closes the connection
            next(pieces)
            assert client.post("/v1/audio/speech", json={"input": "Me too."}).status_code == 429
            text = client.get("/metrics").text
        wait_for(busy.idle, what="the held stream to be released")
    exported = {
        sample.name for family in text_string_to_metric_families(text) for sample in family.samples
    } | {family.name for family in text_string_to_metric_families(text)}
    queried = queried_metrics()
    assert {"supertonic_ttfb_ms", "supertonic_scheduler_rejected_streams_total"} <= queried
    assert queried <= exported, sorted(queried - exported)
