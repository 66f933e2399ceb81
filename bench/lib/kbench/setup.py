"""Everything a run needs before it measures: Debian packages, the Release
build of kerberus, the 100 generated plugins and the Backstage install.

Builds and installs land in bench/.cache/ (git-ignored) and are reused while
their inputs are unchanged.
"""
import concurrent.futures
import hashlib
import os
import re
import shutil
import subprocess

from .procs import BenchError, log

# command -> Debian package providing it
DEBIAN_TOOLS = {"nginx": "nginx", "wrk": "wrk", "taskset": "util-linux", "gcc": "gcc", "curl": "curl"}


def run(argv, what, cwd=None, env=None, log_path=None):
    """Runs a setup command; on failure shows its output's tail and stops."""
    out = open(log_path, "wb") if log_path else subprocess.PIPE
    try:
        proc = subprocess.run(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    finally:
        if log_path:
            out.close()
    if proc.returncode != 0:
        if log_path:
            with open(log_path, "rb") as f:
                text = f.read().decode(errors="replace")
        else:
            text = proc.stdout.decode(errors="replace")
        tail = "\n".join(text.splitlines()[-25:])
        raise BenchError(f"{what} failed (exit {proc.returncode}):\n{tail}")


def as_root(argv):
    return argv if os.geteuid() == 0 else ["sudo"] + argv


def ensure_debian_tools():
    missing = sorted({pkg for cmd, pkg in DEBIAN_TOOLS.items() if shutil.which(cmd) is None})
    if not missing:
        return
    log(f"installing from Debian: {' '.join(missing)}")
    run(as_root(["apt-get", "update", "-q"]), "apt-get update")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    run(as_root(["apt-get", "install", "-y", "-q", "--no-install-recommends"] + missing),
        "apt-get install " + " ".join(missing), env=env)


# ---- kerberus -------------------------------------------------------------

def build_kerberus(repo, build_dir):
    """A Release build without tests; returns (kerberusd, bundled plugin dir)."""
    log(f"building kerberus (Release) in {build_dir}")
    run([os.path.join(repo, ".ci", "install-deps")], "installing kerberus build dependencies (.ci/install-deps)")
    os.makedirs(build_dir, exist_ok=True)
    if not os.path.exists(os.path.join(build_dir, "CMakeCache.txt")):
        run(["cmake", "-S", repo, "-B", build_dir, "-DCMAKE_BUILD_TYPE=Release", "-DKERBERUS_BUILD_TESTS=OFF"],
            "cmake configure", log_path=os.path.join(build_dir, "configure.log"))
    run(["cmake", "--build", build_dir, "-j", str(os.cpu_count() or 2)], "building kerberus",
        log_path=os.path.join(build_dir, "build.log"))
    daemon = os.path.join(build_dir, "host", "kerberusd")
    plugins = os.path.join(build_dir, "plugins")
    for needed in [daemon] + [os.path.join(plugins, f"{p}.so.1.0.0") for p in ("hello", "proxy")]:
        if not os.path.exists(needed):
            raise BenchError(f"the build did not produce {needed}")
    return daemon, plugins


# ---- 100 plugins from the hello template ----------------------------------

# The literals in plugins/hello/hello.c that become macros.
TEMPLATE_FIELDS = {'.id = "hello"': ".id = BENCH_PLUGIN_ID", '.version = "1.0.0"': ".version = BENCH_PLUGIN_VERSION"}


def template_source(hello_c):
    with open(hello_c) as f:
        text = f.read()
    for literal, macro in TEMPLATE_FIELDS.items():
        if text.count(literal) != 1:
            raise BenchError(f"{hello_c} no longer contains `{literal}` exactly once; "
                             f"update TEMPLATE_FIELDS in {__file__}")
        text = text.replace(literal, macro)
    return text


def plugin_ids(count):
    return [f"bench{i:03d}" for i in range(count)]


def build_many_plugins(repo, cache_dir, count):
    """Compiles hello.c `count` times, each with its own id and version.

    Returns the directory holding the .so files. Reused while hello.c and
    plugin.h are unchanged.
    """
    hello_c = os.path.join(repo, "plugins", "hello", "hello.c")
    include = os.path.join(repo, "plugin-api", "include")
    source = template_source(hello_c)
    with open(os.path.join(include, "kerberus", "plugin.h"), "rb") as f:
        key = hashlib.sha256(source.encode() + f.read() + str(count).encode()).hexdigest()[:16]
    out = os.path.join(cache_dir, f"plugins{count}-{key}")
    done = os.path.join(out, ".complete")
    if os.path.exists(done):
        return out
    log(f"building {count} plugins from plugins/hello/hello.c into {out}")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    src = os.path.join(out, "template.c")
    with open(src, "w") as f:
        f.write(source)

    def compile_one(index_and_id):
        i, pid = index_and_id
        version = f"1.0.{i}"
        # The same flags kerberus_add_plugin uses; the file name carries the version.
        run(["gcc", "-std=c99", "-O2", "-shared", "-fPIC", "-fvisibility=hidden", "-I", include,
             f'-DBENCH_PLUGIN_ID="{pid}"', f'-DBENCH_PLUGIN_VERSION="{version}"', "-Wl,--no-undefined",
             "-o", os.path.join(out, f"{pid}.so.{version}"), src], f"compiling plugin {pid}")

    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        list(pool.map(compile_one, enumerate(plugin_ids(count))))
    os.remove(src)
    open(done, "w").close()
    return out


# ---- Backstage ------------------------------------------------------------

APP_FILES = ("package.json", "package-lock.json", "index.js")


def backstage_dir(cache_dir):
    return os.path.join(cache_dir, "backstage")


def _digest(files):
    h = hashlib.sha256()
    for path in files:
        if os.path.exists(path):
            with open(path, "rb") as f:
                h.update(f.read())
    return h.hexdigest()


def backstage_installed(skeleton, cache_dir):
    """True when the cache holds node_modules for exactly this package.json."""
    target = backstage_dir(cache_dir)
    stamp = os.path.join(target, ".installed")
    if not os.path.exists(stamp):
        return False
    with open(stamp) as f:
        return f.read().strip() == _digest([os.path.join(skeleton, n) for n in ("package.json", "package-lock.json")])


def node_available():
    return shutil.which("node") is not None and shutil.which("npm") is not None


def install_backstage(skeleton, cache_dir):
    """npm-installs the Backstage backend skeleton into the cache; returns its dir."""
    target = backstage_dir(cache_dir)
    os.makedirs(target, exist_ok=True)
    for name in APP_FILES:
        src = os.path.join(skeleton, name)
        if os.path.exists(src):
            shutil.copyfile(src, os.path.join(target, name))
    if not backstage_installed(skeleton, cache_dir):
        if not node_available():
            raise BenchError("Backstage needs node (20) and npm on PATH; install them or pass --no-backstage")
        log(f"installing the Backstage backend with npm into {target} (a few minutes, once; "
            f"better-sqlite3 compiles from source)")
        # With a lock file, install exactly what was measured before.
        cmd = "ci" if os.path.exists(os.path.join(target, "package-lock.json")) else "install"
        run(["npm", cmd, "--no-audit", "--no-fund", "--loglevel=error"], f"npm {cmd} (Backstage)", cwd=target,
            log_path=os.path.join(target, "npm-install.log"))
        with open(os.path.join(target, ".installed"), "w") as f:
            f.write(_digest([os.path.join(skeleton, n) for n in ("package.json", "package-lock.json")]))
    return target


def tool_version(argv, pattern):
    try:
        out = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=10).stdout.decode()
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    m = re.search(pattern, out)
    return m.group(1) if m else "?"
