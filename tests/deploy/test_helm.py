"""The Helm chart, rendered by Helm's own Go SDK (``helm-python-sdk``; no cluster, no helm
binary) and validated against the Kubernetes schemas (``kubernetes-validate``). KEDA's
ScaledObject and the Prometheus Operator's ServiceMonitor are custom resources without a
schema there: their structure is checked here. ``helm install`` is not run here."""

from __future__ import annotations

import json
from typing import Any

import helm_python as helm
import kubernetes_validate
import pytest
from supertonic_server.settings import variables

from .conftest import CHART, of_kind, render, values_file

KUBERNETES = "1.30.0"
CUSTOM = {"ScaledObject", "ServiceMonitor"}
EVERYTHING = {
    "autoscaling": {"enabled": True},
    "serviceMonitor": {"enabled": True},
    "grafanaDashboard": {"enabled": True},
    "ingress": {"enabled": True, "tls": [{"hosts": ["tts.example.com"], "secretName": "tts"}]},
    "wyoming": {"enabled": True},
    "apiKeySecret": "tts-keys",
    "modelCache": {"existingClaim": "supertonic-models"},
    "customVoices": {"existingClaim": "supertonic-voices"},
    "env": {"SUPERTONIC_MAX_QUEUE": "4"},
}
CASES = {
    "defaults": {},
    "everything": EVERYTHING,
    "gpu": values_file("values-gpu.yaml"),
}


def container(docs: list[dict[str, Any]]) -> dict[str, Any]:
    (server,) = of_kind(docs, "Deployment")["spec"]["template"]["spec"]["containers"]
    return server


def env_of(docs: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container(docs)["env"]}


def test_helm_lint_finds_no_error() -> None:
    result = helm.lint(str(CHART), values=EVERYTHING, strict=True)
    assert result["errors"] == [], result
    assert not [m for m in result["messages"] if m["severity"] > 1], result


@pytest.mark.parametrize("case", CASES)
def test_rendered_manifests_pass_the_kubernetes_schemas(case: str) -> None:
    docs = render(CASES[case])
    kinds = {d["kind"] for d in docs}
    assert {"Deployment", "Service", "PodDisruptionBudget"} <= kinds
    for doc in docs:
        if doc["kind"] in CUSTOM:
            continue
        kubernetes_validate.validate(doc, KUBERNETES, strict=True)


def test_the_pod_runs_the_image_command_with_settings_from_the_environment() -> None:
    docs = render(EVERYTHING)
    server = container(docs)
    assert "command" not in server and "args" not in server  # the image's exec-form CMD
    env = env_of(docs)
    known = variables() | {
        "SUPERTONIC_CACHE_DIR",
        "SUPERTONIC_MODEL_DIR",
    }
    ours = {k for k in env if k.startswith("SUPERTONIC_")}
    assert ours <= known, ours - known
    assert env["SUPERTONIC_WYOMING_PORT"] == "10200" and env["SUPERTONIC_MAX_QUEUE"] == "4"
    assert env["SUPERTONIC_API_KEY"] == {"secretKeyRef": {"name": "tts-keys", "key": "api-key"}}
    assert {p["name"] for p in server["ports"]} == {"http", "wyoming"}
    pod = of_kind(docs, "Deployment")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert server["securityContext"]["readOnlyRootFilesystem"] is True
    mounts = {m["mountPath"] for m in server["volumeMounts"]}
    assert {env["SUPERTONIC_CACHE_DIR"], env["SUPERTONIC_VOICES_DIR"], "/tmp"} <= mounts
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["models"]["persistentVolumeClaim"]["claimName"] == "supertonic-models"
    assert volumes["voices"]["persistentVolumeClaim"]["claimName"] == "supertonic-voices"


def test_custom_voices_live_on_a_volume_mounted_as_the_voices_folder() -> None:
    """The server needs its voices folder to exist, and a new volume is empty: the volume is
    mounted as the folder itself (the image's SUPERTONIC_VOICES_DIR), writable by the
    server's group (fsGroup) under a read-only root filesystem."""
    docs = render()
    server = container(docs)
    pod = of_kind(docs, "Deployment")["spec"]["template"]["spec"]
    (mount,) = [m for m in server["volumeMounts"] if m["name"] == "voices"]
    assert mount["mountPath"] == env_of(docs)["SUPERTONIC_VOICES_DIR"] == "/data/voices"
    assert not mount.get("readOnly")
    (volume,) = [v for v in pod["volumes"] if v["name"] == "voices"]
    assert (
        volume["emptyDir"]["sizeLimit"] == values_file("values.yaml")["customVoices"]["sizeLimit"]
    )
    assert pod["securityContext"]["fsGroup"] == 10001


def test_probes_and_shutdown_fit_in_the_grace_period() -> None:
    docs = render()
    server = container(docs)
    assert server["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert server["livenessProbe"]["httpGet"]["path"] == "/healthz"
    pre_stop = server["lifecycle"]["preStop"]["exec"]["command"]
    values = values_file("values.yaml")
    assert f"time.sleep({values['preStopSleepSeconds']})" in pre_stop[-1]
    grace = float(env_of(docs)["SUPERTONIC_SHUTDOWN_GRACE"])
    pod = of_kind(docs, "Deployment")["spec"]["template"]["spec"]
    assert pod["terminationGracePeriodSeconds"] > values["preStopSleepSeconds"] + grace


def test_cpu_and_gpu_nodes_get_their_own_resources() -> None:
    cpu = render()
    assert container(cpu)["image"].endswith(":cpu")
    assert env_of(cpu)["SUPERTONIC_DEVICE"] == "cpu"
    assert env_of(cpu)["SUPERTONIC_INTRA_THREADS"] == "2"  # the cores requested, not the node's
    assert "cpu" not in container(cpu)["resources"].get("limits", {})  # no throttling

    gpu = render(values_file("values-gpu.yaml"))
    server = container(gpu)
    assert server["image"].endswith(":cuda")
    assert server["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert env_of(gpu)["SUPERTONIC_DEVICE"] == "cuda"
    assert "SUPERTONIC_INTRA_THREADS" not in env_of(gpu)
    pod = of_kind(gpu, "Deployment")["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    assert any(t["key"] == "nvidia.com/gpu" for t in pod["tolerations"])


def test_keda_scales_on_streams_capacity_waiting_and_429s_not_cpu() -> None:
    docs = render(EVERYTHING)
    scaled = of_kind(docs, "ScaledObject")
    assert scaled["apiVersion"] == "keda.sh/v1alpha1"
    deployment = of_kind(docs, "Deployment")
    assert scaled["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    assert "replicas" not in deployment["spec"]  # the HPA owns the count
    triggers = {t["name"]: t for t in scaled["spec"]["triggers"]}
    assert set(triggers) == {"streams-vs-capacity", "streams-waiting", "rejected-streams"}
    for trigger in triggers.values():
        assert trigger["type"] == "prometheus"  # never cpu or memory
        meta = trigger["metadata"]
        assert meta["serverAddress"].startswith("http")
        assert 'namespace="voice",service="tts-supertonic"' in meta["query"]
        float(meta["threshold"])
    assert (
        "supertonic_scheduler_max_streams" in triggers["streams-vs-capacity"]["metadata"]["query"]
    )
    assert "rejected_streams_total" in triggers["rejected-streams"]["metadata"]["query"]
    monitor = of_kind(docs, "ServiceMonitor")
    assert monitor["spec"]["endpoints"][0] == {
        "port": "http",
        "path": "/metrics",
        "interval": "15s",
    }
    service = of_kind(docs, "Service")
    assert (
        monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    )


def test_the_dashboard_configmap_carries_the_dashboard_file() -> None:
    config = of_kind(render(EVERYTHING), "ConfigMap")
    assert config["metadata"]["labels"]["grafana_dashboard"] == "1"
    shipped = json.loads((CHART / "dashboards" / "supertonic.json").read_text())
    assert json.loads(config["data"]["supertonic.json"]) == shipped


def test_the_ingress_keeps_websockets_open() -> None:
    ingress = of_kind(render(EVERYTHING), "Ingress")
    annotations = ingress["metadata"]["annotations"]
    assert int(annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 600
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["port"] == {"name": "http"}
