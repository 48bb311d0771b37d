#!/usr/bin/env python3
"""A user-space TCP proxy that adds a fixed one-way delay to each direction (order kept) and
counts the client's round trips.

    latency_proxy.py LISTEN_PORT TARGET_PORT DELAY_MS STATS_FILE

Listens on 127.0.0.1:LISTEN_PORT, forwards to 127.0.0.1:TARGET_PORT (loopback only). A
client *flight* starts when the client sends after the server has sent (or first on the
connection): each flight waited for a reply, so it costs one round trip. When a connection
ends, one JSON line {"flights": F, "c2s": BYTES, "s2c": BYTES} is appended to STATS_FILE
(not for a connection on which the client sent nothing: a port probe).
Prints "READY <pid>" once listening; stops on SIGTERM/SIGINT.
(The delay is simulated in user space, so that no kernel netem is needed.)"""
import asyncio
import json
import os
import signal
import sys
import time

LISTEN, TARGET, DELAY, STATS = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]) / 1000, sys.argv[4]
HOST = "127.0.0.1"


class Conn:
    def __init__(self):
        self.last = "s"  # the server speaks first; the client's first bytes open flight 1
        self.flights = 0
        self.c2s = 0
        self.s2c = 0


async def pump(reader, writer, conn, direction):
    q: asyncio.Queue = asyncio.Queue()

    async def rd():
        while True:
            data = await reader.read(65536)
            if data:
                if direction == "c":
                    if conn.last != "c":
                        conn.flights += 1
                    conn.c2s += len(data)
                else:
                    conn.s2c += len(data)
                conn.last = direction
            q.put_nowait((time.monotonic() + DELAY, data))
            if not data:
                return

    async def wr():
        while True:
            due, data = await q.get()
            d = due - time.monotonic()
            if d > 0:
                await asyncio.sleep(d)
            if not data:
                try:
                    writer.write_eof()
                except OSError:
                    pass
                return
            writer.write(data)
            await writer.drain()

    try:
        await asyncio.gather(rd(), wr())
    except (ConnectionError, OSError):
        pass


async def handle(cr, cw):
    try:
        sr, sw = await asyncio.open_connection(HOST, TARGET)
    except OSError:
        cw.close()
        return
    conn = Conn()
    await asyncio.gather(pump(cr, sw, conn, "c"), pump(sr, cw, conn, "s"))
    cw.close()
    sw.close()
    if conn.c2s == 0:
        return  # a port probe, not a client
    with open(STATS, "a") as f:
        f.write(json.dumps({"flights": conn.flights, "c2s": conn.c2s, "s2c": conn.s2c}) + "\n")


async def main():
    srv = await asyncio.start_server(handle, HOST, LISTEN)
    stop = asyncio.Event()
    for s in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(s, stop.set)
    print("READY", os.getpid(), flush=True)
    await stop.wait()
    srv.close()

asyncio.run(main())
