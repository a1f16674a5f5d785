#!/usr/bin/env python3
"""Renders deploy/k8s with `kubectl kustomize` (the kubectl on PATH) and checks
the essentials of the rendered objects: images, ports, the controller's gRPC
probes on its health port, GPU requests and trial slots of the workers, the
TLS and database secrets, Prometheus scrape annotations, and the KEDA
ScaledObject's target and query against the metrics the controller exports.

  tests/deploy/check_manifests.py SOURCE_DIR

Prints every failed check and exits 1 when any failed, or one line and exits 1
when kubectl is missing or cannot render the manifests.
"""
import re
import shutil
import subprocess
import sys

import yaml

NAMESPACE = "tinynas"
CONTROLLER_PORTS = {"grpc": 50051, "metrics": 9464, "health": 50052}
WORKER_METRICS_PORT = 9465
EXPECTED_OBJECTS = sorted([
    "Namespace/tinynas", "Service/tinynas-postgres",
    "StatefulSet/tinynas-postgres", "Service/tinynas-controller",
    "Deployment/tinynas-controller", "Deployment/tinynas-worker",
    "ScaledObject/tinynas-worker"])


class Checker:
    def __init__(self):
        self.failures = []

    def expect(self, condition, what):
        if not condition:
            self.failures.append(what)
        return condition


def render(source_dir):
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        sys.exit("check_manifests: kubectl not found on PATH: install Debian's "
                 "kubernetes-client (scripts/install_deps.sh does)")
    # stderr is kept apart: newer kubectl warns that commonLabels is
    # deprecated (kept for Debian 12's kubectl 1.20, see kustomization.yaml).
    done = subprocess.run([kubectl, "kustomize", f"{source_dir}/deploy/k8s"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=60)
    if done.returncode != 0:
        sys.exit("check_manifests: kubectl kustomize deploy/k8s failed: " +
                 " ".join(done.stderr.split()))
    return [o for o in yaml.safe_load_all(done.stdout) if o]


def find(objects, kind, name):
    found = [o for o in objects
             if o["kind"] == kind and o["metadata"]["name"] == name]
    return found[0] if len(found) == 1 else None


def flags(container):
    """--name=value arguments of a container as a dict."""
    out = {}
    for arg in container.get("args", []):
        if arg.startswith("--") and "=" in arg:
            key, value = arg[2:].split("=", 1)
            out[key] = value
    return out


def listen_port(address):
    return int(address.rsplit(":", 1)[1])


def source(source_dir, path):
    with open(f"{source_dir}/{path}", encoding="utf-8") as f:
        return f.read()


def check_images_and_namespace(c, objects):
    for o in objects:
        where = f'{o["kind"]}/{o["metadata"]["name"]}'
        if o["kind"] != "Namespace":
            c.expect(o["metadata"].get("namespace") == NAMESPACE,
                     f"{where}: not in namespace {NAMESPACE}")
        c.expect(o["metadata"].get("labels", {}).get(
            "app.kubernetes.io/part-of") == "tinynas",
            f"{where}: no label app.kubernetes.io/part-of=tinynas")
        if o["kind"] not in ("Deployment", "StatefulSet"):
            continue
        for container in o["spec"]["template"]["spec"]["containers"]:
            image = container["image"]
            c.expect(re.fullmatch(r"tinynas/(controller|worker):[\w.-]+", image)
                     or re.fullmatch(r"postgres:15([\w.-]*)", image),
                     f"{where}: image {image} is neither a tinynas image "
                     "nor postgres:15")


def container_ports(container):
    return {p["name"]: p["containerPort"] for p in container.get("ports", [])}


def check_scrape_annotations(c, deployment, port):
    where = f'Deployment/{deployment["metadata"]["name"]}'
    annotations = deployment["spec"]["template"]["metadata"].get(
        "annotations", {})
    c.expect(annotations.get("prometheus.io/scrape") == "true",
             f"{where}: pods not annotated prometheus.io/scrape: \"true\"")
    c.expect(annotations.get("prometheus.io/port") == str(port),
             f"{where}: prometheus.io/port is not the metrics port {port}")
    c.expect(annotations.get("prometheus.io/path") == "/metrics",
             f"{where}: prometheus.io/path is not /metrics")


def check_tls_secret(c, pod_spec, container, files):
    """The tinynas-tls secret is mounted and the flags name files in it."""
    where = f'container {container["name"]}'
    volumes = {v["name"]: v.get("secret", {}).get("secretName")
               for v in pod_spec.get("volumes", [])}
    mounts = [m for m in container.get("volumeMounts", [])
              if volumes.get(m["name"]) == "tinynas-tls"]
    if not c.expect(len(mounts) == 1, f"{where}: secret tinynas-tls not mounted"):
        return
    root = mounts[0]["mountPath"].rstrip("/")
    f = flags(container)
    for flag, name in files.items():
        c.expect(f.get(flag) == f"{root}/{name}",
                 f"{where}: --{flag} is not {root}/{name} from tinynas-tls")


def check_controller(c, objects, source_dir):
    d = find(objects, "Deployment", "tinynas-controller")
    if not c.expect(d is not None, "no Deployment tinynas-controller"):
        return
    pod = d["spec"]["template"]["spec"]
    container = pod["containers"][0]
    ports = container_ports(container)
    c.expect(ports == CONTROLLER_PORTS,
             f"controller: container ports {ports}, want {CONTROLLER_PORTS}")
    f = flags(container)
    for flag, port in (("listen", "grpc"), ("metrics_listen", "metrics"),
                       ("health_listen", "health")):
        c.expect(flag in f and listen_port(f[flag]) == CONTROLLER_PORTS[port],
                 f"controller: --{flag} does not serve the {port} port "
                 f"{CONTROLLER_PORTS[port]}")
    liveness = re.search(r'kLivenessService\[\] = "([^"]+)"',
                         source(source_dir, "controller/server.h"))
    c.expect(liveness is not None, "controller/server.h: no kLivenessService")
    for probe, service in (("readinessProbe", None),
                           ("livenessProbe",
                            liveness.group(1) if liveness else "?")):
        grpc = container.get(probe, {}).get("grpc")
        if not c.expect(grpc is not None, f"controller: {probe} is not a gRPC "
                                          "probe"):
            continue
        c.expect(grpc.get("port") == CONTROLLER_PORTS["health"],
                 f"controller: {probe} is not on the health port")
        c.expect(grpc.get("service") == service,
                 f"controller: {probe} asks service {grpc.get('service')}, "
                 f"want {service}")
    check_tls_secret(c, pod, container, {
        "tls_cert": "server.pem", "tls_key": "server.key",
        "tls_client_ca": "ca.pem", "api_tokens_file": "api_tokens"})
    db = [e for e in container.get("env", []) if e["name"] == "TINYNAS_DB"]
    c.expect(len(db) == 1 and db[0].get("valueFrom", {}).get(
        "secretKeyRef", {}).get("name") == "tinynas-db",
        "controller: TINYNAS_DB does not come from the secret tinynas-db")
    c.expect(f.get("db") == "$(TINYNAS_DB)", "controller: --db is not "
                                              "$(TINYNAS_DB)")
    check_scrape_annotations(c, d, CONTROLLER_PORTS["metrics"])

    s = find(objects, "Service", "tinynas-controller")
    if c.expect(s is not None, "no Service tinynas-controller"):
        service_ports = {p["port"] for p in s["spec"]["ports"]}
        c.expect({50051, 9464} <= service_ports,
                 f"Service tinynas-controller: ports {service_ports} lack "
                 "50051 or 9464")
        c.expect(s["spec"]["selector"].items() <=
                 d["spec"]["template"]["metadata"]["labels"].items(),
                 "Service tinynas-controller selects no controller pod")


def check_worker(c, objects):
    d = find(objects, "Deployment", "tinynas-worker")
    if not c.expect(d is not None, "no Deployment tinynas-worker"):
        return None
    pod = d["spec"]["template"]["spec"]
    container = pod["containers"][0]
    gpus = container.get("resources", {}).get("limits", {}).get(
        "nvidia.com/gpu")
    c.expect(gpus is not None and int(gpus) >= 1,
             "worker: no nvidia.com/gpu in resources.limits")
    f = flags(container)
    c.expect(gpus is not None and f.get("slots") == str(gpus),
             f"worker: --slots={f.get('slots')} is not one per GPU ({gpus})")
    c.expect(f.get("controller") == "tinynas-controller:50051",
             "worker: --controller is not the Service tinynas-controller:50051")
    c.expect(container_ports(container) == {"metrics": WORKER_METRICS_PORT},
             "worker: container ports are not metrics "
             f"{WORKER_METRICS_PORT}")
    c.expect(listen_port(f.get("metrics_listen", ":-1")) == WORKER_METRICS_PORT,
             "worker: --metrics_listen is not the metrics port")
    # No gRPC server in the worker: liveness is its metrics endpoint.
    http = container.get("livenessProbe", {}).get("httpGet", {})
    c.expect(http.get("path") == "/metrics" and
             http.get("port") in ("metrics", WORKER_METRICS_PORT),
             "worker: livenessProbe is not an HTTP GET of /metrics on the "
             "metrics port")
    check_tls_secret(c, pod, container, {
        "tls_ca": "ca.pem", "tls_cert": "worker.pem", "tls_key": "worker.key"})
    check_scrape_annotations(c, d, WORKER_METRICS_PORT)
    return d


def check_postgres(c, objects):
    s = find(objects, "StatefulSet", "tinynas-postgres")
    if not c.expect(s is not None, "no StatefulSet tinynas-postgres"):
        return
    container = s["spec"]["template"]["spec"]["containers"][0]
    c.expect(container_ports(container) == {"postgres": 5432},
             "postgres: container port is not 5432")
    password = [e for e in container.get("env", [])
                if e["name"] == "POSTGRES_PASSWORD"]
    c.expect(len(password) == 1 and password[0].get("valueFrom", {}).get(
        "secretKeyRef", {}).get("name") == "tinynas-db",
        "postgres: POSTGRES_PASSWORD does not come from the secret tinynas-db")


def check_autoscaling(c, objects, worker, source_dir):
    scaled = [o for o in objects if o["kind"] == "ScaledObject"]
    if not c.expect(len(scaled) == 1, "not exactly one KEDA ScaledObject"):
        return
    spec = scaled[0]["spec"]
    c.expect(worker is not None and spec["scaleTargetRef"]["name"] ==
             worker["metadata"]["name"] and
             spec["scaleTargetRef"].get("kind", "Deployment") == "Deployment",
             "ScaledObject does not target the worker Deployment")
    exported = source(source_dir, "controller/controller_metrics.cc")
    for trigger in spec["triggers"]:
        if not c.expect(trigger["type"] == "prometheus",
                        f"ScaledObject: trigger {trigger['type']} is not "
                        "prometheus"):
            continue
        query = trigger["metadata"]["query"]
        names = set(re.findall(r"\bnas_[a-z_]+", query))
        c.expect("nas_queue_depth" in names,
                 f"ScaledObject: query {query!r} does not use nas_queue_depth")
        for name in names:
            c.expect(f'.Name("{name}")' in exported,
                     f"ScaledObject: the controller exports no {name}")
        for key, value in re.findall(r'(\w+)="([^"]*)"', query):
            c.expect(f'{{"{key}", "{value}"}}' in exported,
                     f"ScaledObject: the controller exports no label "
                     f'{key}="{value}"')


def main():
    source_dir = sys.argv[1] if len(sys.argv) > 1 else "."
    objects = render(source_dir)
    c = Checker()
    kinds = sorted(f'{o["kind"]}/{o["metadata"]["name"]}' for o in objects)
    c.expect(kinds == EXPECTED_OBJECTS,
             f"rendered {kinds}, want {EXPECTED_OBJECTS}")
    check_images_and_namespace(c, objects)
    check_controller(c, objects, source_dir)
    worker = check_worker(c, objects)
    check_postgres(c, objects)
    check_autoscaling(c, objects, worker, source_dir)
    for failure in c.failures:
        print(f"check_manifests: {failure}")
    if c.failures:
        return 1
    print(f"check_manifests: {len(objects)} objects rendered and checked: "
          + ", ".join(kinds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
