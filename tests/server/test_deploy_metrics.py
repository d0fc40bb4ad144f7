"""Every metric the deploy/ files query (the Grafana dashboard, the KEDA triggers of the
Helm chart) is one the real server exports, and every quantile they take is of a histogram
(which adds up across replicas): a renamed metric breaks this test, not a dashboard or an
autoscaler in production."""

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
QUANTILE_OF = re.compile(r"histogram_quantile\(.*?\b(supertonic_[a-z0-9_]+)_bucket\b")
LONG = " ".join(["A sentence that keeps the only slot busy for a while."] * 40)


def queries() -> list[str]:
    dashboard = json.loads((CHART / "dashboards" / "supertonic.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    exprs += [v["query"] for v in dashboard["templating"]["list"] if "query" in v]
    with helm.Chart.load(str(CHART)) as chart:
        files = chart.render({"autoscaling": {"enabled": True}}, name="tts", namespace="voice")
    scaled = yaml.safe_load(files["supertonic/templates/scaledobject.yaml"])
    return exprs + [t["metadata"]["query"] for t in scaled["spec"]["triggers"]]


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
    families = list(text_string_to_metric_families(text))
    exported = {s.name for f in families for s in f.samples} | {f.name for f in families}
    exprs = queries()
    queried = {name for expr in exprs for name in METRIC.findall(expr)}
    assert {
        "supertonic_ttfb_seconds_bucket",
        "supertonic_scheduler_rejected_streams_total",
    } <= queried
    assert queried <= exported, sorted(queried - exported)
    quantiles_of = {name for expr in exprs for name in QUANTILE_OF.findall(expr)}
    assert {"supertonic_ttfb_seconds", "supertonic_rtf"} <= quantiles_of
    types = {family.name: family.type for family in families}
    assert {types[name] for name in quantiles_of} == {"histogram"}
