"""The WebSocket scenario's upstream: accepts the RFC 6455 opening handshake
and echoes every data frame back (unmasked, as a server sends them).

    python3 ws_echo.py PORT

Pings get a pong, a close frame gets a close frame and the connection
ends. Listens on 127.0.0.1 only and exits by itself when the harness that
started it is gone, or after --max-seconds.
"""
import argparse
import asyncio
import base64
import hashlib
import os

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_CLOSE, OP_PING, OP_PONG = 0x8, 0x9, 0xA


def accept_value(key):
    return base64.b64encode(hashlib.sha1(key + GUID).digest())


def frame(first_byte, payload):
    """A server frame: never masked."""
    n = len(payload)
    if n < 126:
        head = bytes([first_byte, n])
    elif n < 1 << 16:
        head = bytes([first_byte, 126]) + n.to_bytes(2, "big")
    else:
        head = bytes([first_byte, 127]) + n.to_bytes(8, "big")
    return head + payload


def unmask(payload, mask):
    n = len(payload)
    if not n:
        return payload
    key = (mask * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(n, "big")


async def handshake(reader, writer):
    """Reads the upgrade request and answers 101; False if it is not one."""
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    key = headers.get("sec-websocket-key")
    if not lines[0].startswith("GET ") or headers.get("upgrade", "").lower() != "websocket" or not key:
        writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
        return False
    writer.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 b"Sec-WebSocket-Accept: " + accept_value(key.encode()) + b"\r\n\r\n")
    await writer.drain()
    return True


async def echo(reader, writer):
    while True:
        b0, b1 = await reader.readexactly(2)
        opcode, length = b0 & 0x0F, b1 & 0x7F
        if length == 126:
            length = int.from_bytes(await reader.readexactly(2), "big")
        elif length == 127:
            length = int.from_bytes(await reader.readexactly(8), "big")
        mask = await reader.readexactly(4) if b1 & 0x80 else None
        payload = await reader.readexactly(length)
        if mask:
            payload = unmask(payload, mask)
        if opcode == OP_CLOSE:
            writer.write(frame(0x80 | OP_CLOSE, payload[:2]))
            await writer.drain()
            return
        if opcode == OP_PING:
            writer.write(frame(0x80 | OP_PONG, payload))
        elif opcode != OP_PONG:
            writer.write(frame(b0, payload))  # FIN, RSV and opcode as received
        await writer.drain()


async def serve_one(reader, writer):
    try:
        if await handshake(reader, writer):
            await echo(reader, writer)
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.TimeoutError, ConnectionError):
        pass
    finally:
        writer.close()


async def watchdog(max_seconds):
    """Returns once the parent is gone or the time is up."""
    parent, loop = os.getppid(), asyncio.get_running_loop()
    began = loop.time()
    while os.getppid() == parent and loop.time() - began < max_seconds:
        await asyncio.sleep(1)


async def main(port, max_seconds):
    await asyncio.start_server(serve_one, "127.0.0.1", port, backlog=4096, reuse_address=True)
    await watchdog(max_seconds)
    os._exit(0)  # without waiting for open connections


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("port", type=int)
    p.add_argument("--max-seconds", type=float, default=7200)
    args = p.parse_args()
    asyncio.run(main(args.port, args.max_seconds))
