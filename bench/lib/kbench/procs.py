"""Processes the harness starts, and the guarantee that it stops them all.

Every server runs in its own session (process group), so stopping it also
stops what it forked (nginx workers). Every wait is bounded.
"""
import atexit
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request


class BenchError(Exception):
    """A failure the user can act on; printed without a traceback."""


def log(message):
    print(f"bench: {message}", file=sys.stderr, flush=True)


_started = []  # every Popen still alive, newest last
_cleanups = []  # callables run once at exit (temp dirs)


def spawn(argv, cores, log_path, env=None, cwd=None):
    """Starts argv pinned to `cores` with stdout and stderr going to log_path.

    The affinity is set on this process for the duration of the spawn and is
    inherited, instead of going through `taskset`: one exec less, which
    matters when the time from exec to READY is what is measured.
    """
    before = os.sched_getaffinity(0)
    logfile = open(log_path, "ab")
    try:
        os.sched_setaffinity(0, cores)
        proc = subprocess.Popen(argv, stdout=logfile, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=env, cwd=cwd, start_new_session=True)
    except OSError as e:
        raise BenchError(f"cannot start {argv[0]}: {e}") from e
    finally:
        os.sched_setaffinity(0, before)
        logfile.close()
    proc.log_path = log_path
    _started.append(proc)
    return proc


def run_tracked(argv, timeout):
    """Runs a short-lived tool to completion: (exit code, output).

    Tracked like the servers, so an interrupted run stops it too.
    """
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True)
    proc.log_path = None
    _started.append(proc)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        stop(proc, grace=1.0)
        raise
    finally:
        if proc in _started:
            _started.remove(proc)
    return proc.returncode, out.decode(errors="replace")


def stop(proc, grace=10.0):
    """SIGTERM to the whole group, SIGKILL after `grace` seconds."""
    if proc.poll() is None:
        _signal_group(proc, signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            _signal_group(proc, signal.SIGKILL)
            proc.wait(timeout=5)
    # Workers of a master that exited first would otherwise linger.
    _signal_group(proc, signal.SIGKILL)
    if proc in _started:
        _started.remove(proc)


def _signal_group(proc, sig):
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass


def on_exit(fn):
    _cleanups.append(fn)


def cleanup():
    for proc in reversed(list(_started)):
        try:
            stop(proc, grace=5.0)
        except Exception as e:  # keep going: the rest must stop too
            log(f"could not stop pid {proc.pid}: {e}")
    while _cleanups:
        try:
            _cleanups.pop()()
        except Exception as e:
            log(f"cleanup step failed: {e}")


def install_cleanup():
    """Stops everything on normal exit, on an exception, and on SIGINT/SIGTERM/SIGHUP."""
    atexit.register(cleanup)

    def interrupted(signum, _frame):
        log(f"interrupted by signal {signum}; stopping everything started")
        cleanup()
        os._exit(128 + signum)

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, interrupted)


def tail(path, lines=20):
    try:
        with open(path, "rb") as f:
            return b"".join(f.readlines()[-lines:]).decode(errors="replace")
    except OSError:
        return ""


def fail_started(proc, what):
    """The clear message for a server that exited or never became ready."""
    status = "exited with code %s" % proc.returncode if proc.poll() is not None else "is not ready"
    raise BenchError(f"{what} {status}; last lines of {proc.log_path}:\n{tail(proc.log_path)}")


# ---- ports ----------------------------------------------------------------

def port_is_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def require_free_ports(ports):
    busy = [p for p in ports if not port_is_free(p)]
    if busy:
        raise BenchError(f"port(s) {', '.join(map(str, busy))} on 127.0.0.1 are in use; "
                         f"stop what listens there or pass --base-port N")


def port_open(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


# ---- waiting --------------------------------------------------------------

def wait_until(predicate, proc, timeout, what, interval=0.01):
    """Polls predicate until true; fails clearly if proc dies or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if proc is not None and proc.poll() is not None:
            fail_started(proc, what)
        time.sleep(interval)
    if proc is not None:
        fail_started(proc, f"{what} (waited {timeout:g} s)")
    raise BenchError(f"{what}: not ready after {timeout:g} s")


def http_get(url, timeout=2.0, headers=None, context=None):
    """(status, body) of a GET; (None, reason) when nothing answered.
    `context`: the ssl.SSLContext for an https URL."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=timeout,
                                    context=context) as r:
            return r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")
    except (OSError, urllib.error.URLError) as e:
        return None, str(e)


def rss_kib(pid):
    """VmRSS of pid and its descendants, in KiB."""
    total = 0
    for p in [pid] + descendants(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def descendants(pid):
    children = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                children += [int(c) for c in f.read().split()]
    except OSError:
        return []
    result = list(children)
    for c in children:
        result += descendants(c)
    return result
