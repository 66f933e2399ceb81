"""Starting the contestants: kerberusd, nginx (peer and upstreams), Backstage,
and the Python upstreams of the transfer and WebSocket scenarios.

Each start returns a Server once it answers, or raises BenchError with the
tail of its log. Configs are rendered from bench/lib/templates into the
run's temp dir; every server listens on 127.0.0.1 only.
"""
import os
import re
import shutil
import ssl
import subprocess
import sys

from . import procs
from .notify import NotifySocket, status_of
from .procs import BenchError

LIB = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEMPLATES = os.path.join(LIB, "templates")
BACKSTAGE_SKELETON = os.path.join(LIB, "backstage")
UPSTREAMS = os.path.join(LIB, "upstreams")

HELLO_BODY = "Hello, world!\n"


class Server:
    def __init__(self, name, proc, port, cafile=None):
        self.name = name
        self.proc = proc
        self.port = port
        self.cafile = cafile  # set: the server speaks TLS, with a certificate this CA file verifies

    def url(self, path):
        return f"{'https' if self.cafile else 'http'}://127.0.0.1:{self.port}{path}"

    def stop(self):
        procs.stop(self.proc)


def render(template_path, out_path, **values):
    """Copies a template, replacing each @KEY@; refuses leftovers."""
    with open(template_path) as f:
        text = f.read()
    for key, value in values.items():
        text = text.replace(f"@{key.upper()}@", str(value))
    left = sorted(set(re.findall(r"@[A-Z_]+@", text)))
    if left:
        raise BenchError(f"{template_path}: no value for {', '.join(left)}")
    with open(out_path, "w") as f:
        f.write(text)
    return out_path


# ---- TLS ------------------------------------------------------------------

def make_certificate(workdir):
    """A self-signed EC P-256 certificate for 127.0.0.1, made for this run:
    (certificate, key) paths. Both TLS contestants serve it."""
    os.makedirs(workdir, exist_ok=True)
    cert, key = os.path.join(workdir, "cert.pem"), os.path.join(workdir, "key.pem")
    argv = ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=kerberus-bench",
            "-addext", "subjectAltName=IP:127.0.0.1"]
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0:
        raise BenchError(f"openssl could not make the TLS certificate:\n{done.stderr}")
    return cert, key


# ---- nginx ----------------------------------------------------------------

def start_nginx(name, template, workdir, port, cores, workers=1, upstream_port=0, cafile=None, **values):
    os.makedirs(workdir, exist_ok=True)
    conf = render(os.path.join(TEMPLATES, template), os.path.join(workdir, "nginx.conf"),
                  dir=workdir, port=port, workers=workers, upstream_port=upstream_port, **values)
    # -e: the error log before the config is read (nginx >= 1.19.5), so the
    # packaged /var/log/nginx is never touched; -p: prefix for relative paths.
    proc = procs.spawn(["nginx", "-p", workdir, "-e", os.path.join(workdir, "error.log"), "-c", conf],
                       cores, os.path.join(workdir, "stdout.log"))
    proc.log_path = os.path.join(workdir, "error.log")
    procs.wait_until(lambda: procs.port_open(port), proc, 10, f"{name} (nginx on port {port})")
    return Server(name, proc, port, cafile)


# ---- Python upstreams (lib/upstreams) --------------------------------------

def start_python_upstream(name, script, workdir, port, cores):
    """Runs lib/upstreams/<script> PORT with this interpreter; it exits by
    itself once the harness is gone."""
    os.makedirs(workdir, exist_ok=True)
    proc = procs.spawn([sys.executable, os.path.join(UPSTREAMS, script), str(port)], cores,
                       os.path.join(workdir, "upstream.log"))
    procs.wait_until(lambda: procs.port_open(port), proc, 10, f"{name} ({script} on port {port})")
    return Server(name, proc, port)


# ---- kerberusd ------------------------------------------------------------

def start_kerberus(name, daemon, workdir, port, cores, config_template, ready_timeout=15, cafile=None, **values):
    """Starts kerberusd and waits for READY=1 on a notify socket of our own."""
    os.makedirs(workdir, exist_ok=True)
    conf = render(os.path.join(TEMPLATES, config_template), os.path.join(workdir, "kerberus.yaml"),
                  port=port, **values)
    sock = NotifySocket(os.path.join(workdir, "notify.sock"))
    try:
        proc = procs.spawn([daemon, "--config", conf], cores, os.path.join(workdir, "kerberusd.log"),
                           env=sock.env())
        ready = sock.wait_ready(ready_timeout, proc)
    finally:
        sock.close()
    if ready is None:
        procs.fail_started(proc, f"{name} (kerberusd on port {port}) sent no READY=1")
    status = status_of(ready[1])
    if " 0 failed" not in status:
        procs.stop(proc)
        raise BenchError(f"{name}: a plugin failed to start ({status}); see {proc.log_path}:\n"
                         f"{procs.tail(proc.log_path)}")
    return Server(name, proc, port, cafile)


# ---- Backstage ------------------------------------------------------------

def backstage_env():
    # Production mode as deployed; warn level so it writes no line per
    # request (nginx runs with access_log off, kerberusd logs no requests).
    return dict(os.environ, NODE_ENV="production", LOG_LEVEL="warn")


def backstage_argv(app_dir, workdir, port, upstream_port):
    conf = render(os.path.join(BACKSTAGE_SKELETON, "app-config.yaml"), os.path.join(workdir, "app-config.yaml"),
                  port=port, upstream_port=upstream_port)
    node = shutil.which("node")
    if node is None:
        raise BenchError("node is not on PATH; Backstage cannot run (pass --no-backstage)")
    return [node, os.path.join(app_dir, "index.js"), "--config", conf]


def readiness_ok(port):
    status, _ = procs.http_get(f"http://127.0.0.1:{port}/.backstage/health/v1/readiness", timeout=1.0)
    return status == 200


def start_backstage(name, app_dir, workdir, port, cores, upstream_port, ready_timeout=90):
    os.makedirs(workdir, exist_ok=True)
    argv = backstage_argv(app_dir, workdir, port, upstream_port)
    proc = procs.spawn(argv, cores, os.path.join(workdir, "backstage.log"), env=backstage_env(), cwd=app_dir)
    procs.wait_until(lambda: readiness_ok(port), proc, ready_timeout, f"{name} (Backstage on port {port})",
                     interval=0.05)
    return Server(name, proc, port)


def check_answers(server, path, expect_body=None):
    """Fails before any measurement if a contestant's URL does not answer 200."""
    context = ssl.create_default_context(cafile=server.cafile) if server.cafile else None
    status, body = procs.http_get(server.url(path), timeout=5.0, context=context)
    if status != 200 or (expect_body is not None and body != expect_body):
        raise BenchError(f"{server.name}: GET {path} answered {status} {body[:200]!r}, "
                         f"expected 200 {expect_body!r}; log: {server.proc.log_path}\n"
                         f"{procs.tail(server.proc.log_path)}")
