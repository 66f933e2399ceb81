"""The upload scenario's upstream: reads every request body to its end and
discards it, then answers 200 with the number of body bytes it read.

    python3 sink.py PORT

HTTP/1.1 with keep-alive (the proxies pool their upstream connections);
bodies with a Content-Length or chunked. Listens on 127.0.0.1 only and
exits by itself when the harness that started it is gone, or after
--max-seconds.
"""
import argparse
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SCRATCH = 1 << 20  # bytes read per call; a 1 GiB body is ~1,000 calls


class BodyEnded(Exception):
    """The body stopped before its stated end."""


def skip(rfile, count, scratch):
    """Reads and drops exactly `count` bytes."""
    view = memoryview(scratch)
    while count:
        got = rfile.readinto(view[:min(count, len(view))])
        if not got:
            raise BodyEnded(f"{count} bytes short")
        count -= got


def read_chunked(rfile, scratch):
    """Reads a chunked body (RFC 9112 7.1) to its end; returns its length."""
    total = 0
    while True:
        line = rfile.readline(1024)
        if not line.endswith(b"\n"):
            raise BodyEnded("chunk size line cut off")
        size = int(line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            while rfile.readline(8192) not in (b"\r\n", b"\n"):  # trailers
                pass
            return total
        skip(rfile, size, scratch)
        total += size
        if rfile.readline(3) not in (b"\r\n", b"\n"):
            raise BodyEnded("no line end after a chunk")


class Sink(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    rbufsize = 256 * 1024

    def setup(self):
        super().setup()
        self.scratch = bytearray(SCRATCH)

    def do_POST(self):
        try:
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                total = read_chunked(self.rfile, self.scratch)
            else:
                total = int(self.headers.get("Content-Length", "0"))
                skip(self.rfile, total, self.scratch)
        except (BodyEnded, ValueError) as e:
            self.log_error("body incomplete: %s", e)
            self.close_connection = True
            return
        body = f"{total}\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_PUT = do_POST

    def log_message(self, fmt, *args):  # one line per request would be noise
        pass

    def log_error(self, fmt, *args):
        sys.stderr.write("sink: " + (fmt % args) + "\n")


def watchdog(max_seconds):
    """Exits once the parent is gone or the time is up."""
    parent, began = os.getppid(), time.monotonic()
    while os.getppid() == parent and time.monotonic() - began < max_seconds:
        time.sleep(1)
    os._exit(0)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("port", type=int)
    p.add_argument("--max-seconds", type=float, default=7200)
    args = p.parse_args()
    threading.Thread(target=watchdog, args=(args.max_seconds,), daemon=True).start()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Sink)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
