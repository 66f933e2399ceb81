"""The receiving end of sd_notify: what systemd would see from kerberusd.

The daemon sends datagrams ("READY=1\nSTATUS=...") to the AF_UNIX socket
named by NOTIFY_SOCKET; binding our own lets the harness time READY=1
without systemd.
"""
import os
import select
import socket
import time


class NotifySocket:
    def __init__(self, path):
        self.path = path
        if os.path.exists(path):
            os.unlink(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)

    def env(self, base=None):
        """An environment whose child reports to this socket."""
        env = dict(base if base is not None else os.environ)
        env["NOTIFY_SOCKET"] = self.path
        env.pop("WATCHDOG_USEC", None)
        return env

    def wait_ready(self, timeout, proc=None):
        """(monotonic time READY=1 arrived, the whole message), or None.

        Stops early when proc exits: a daemon that failed sends nothing.
        """
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            readable, _, _ = select.select([self.sock], [], [], min(left, 0.05))
            if readable:
                message = self.sock.recv(4096).decode(errors="replace")
                if "READY=1" in message.split("\n"):
                    return time.monotonic(), message
            elif proc is not None and proc.poll() is not None:
                return None

    def close(self):
        self.sock.close()
        try:
            os.unlink(self.path)
        except OSError:
            pass


def status_of(message):
    for line in message.split("\n"):
        if line.startswith("STATUS="):
            return line[len("STATUS="):]
    return ""
