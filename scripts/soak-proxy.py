#!/usr/bin/env python3
"""A TCP proxy on loopback that breaks connections on purpose, for scripts/soak.

    soak-proxy.py --listen-port-file FILE --upstream-port 2525 --seed S \
                  [--drop 0.03] [--stall 0.02] [--log FILE]

Listens on 127.0.0.1 (an ephemeral port, written to FILE), forwards each connection to
127.0.0.1:UPSTREAM, and gives each connection a fate drawn from a seeded generator:
  drop  (probability --drop):  after a random number of bytes in a random direction, the
                               connection is reset towards the client (RST) and closed
                               towards the server;
  stall (probability --stall): after a random number of bytes in a random direction,
                               nothing more is forwarded either way; the connection stays
                               open until the client gives up and closes it;
  pass:                        forwarded faithfully.
The offsets cover the whole dialogue (greeting to QUIT), so faults land before, inside and
after the message. One line per connection goes to --log; on SIGTERM the proxy writes a
summary line there and exits. Loopback only.
"""
import argparse
import asyncio
import random
import signal
import socket
import struct
import sys

# Bytes a dialogue carries in each direction (roughly): faults are placed uniformly in them.
SPAN = {"s2c": 520, "c2s": 1150}
STALL_MAX_S = 120


class Proxy:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.counts = {"pass": 0, "drop": 0, "stall": 0}
        # Faults that happened (a fault placed past the end of a short dialogue never does).
        self.fired = {"drop": 0, "stall": 0}
        self.log = open(args.log, "a", buffering=1) if args.log else None
        self.conn_id = 0

    def fate(self):
        r = self.rng.random()
        direction = self.rng.choice(["s2c", "c2s"])
        offset = self.rng.randrange(SPAN[direction])
        if r < self.args.drop:
            return "drop", direction, offset
        if r < self.args.drop + self.args.stall:
            return "stall", direction, offset
        return "pass", None, None

    async def handle(self, c_reader, c_writer):
        try:
            await self.relay(c_reader, c_writer)
        except asyncio.CancelledError:
            # The proxy is shutting down.
            c_writer.transport.abort()

    async def relay(self, c_reader, c_writer):
        self.conn_id += 1
        cid = self.conn_id
        action, direction, offset = self.fate()
        self.counts[action] += 1
        if self.log:
            self.log.write(f"conn {cid} {action} {direction or '-'} {offset if offset is not None else '-'}\n")
        try:
            s_reader, s_writer = await asyncio.wait_for(
                asyncio.open_connection("127.0.0.1", self.args.upstream_port), 10)
        except (OSError, asyncio.TimeoutError):
            c_writer.transport.abort()
            return
        fault = asyncio.Event()
        done = {"c2s": 0, "s2c": 0}

        async def pump(name, reader, writer):
            try:
                while not fault.is_set():
                    data = await reader.read(65536)
                    if not data:
                        break
                    if action != "pass" and name == direction and done[name] + len(data) >= offset:
                        keep = offset - done[name]
                        if keep > 0:
                            writer.write(data[:keep])
                            await writer.drain()
                        done[name] += max(keep, 0)
                        fault.set()
                        break
                    done[name] += len(data)
                    writer.write(data)
                    await writer.drain()
            except (ConnectionError, OSError):
                pass
            if not fault.is_set():
                # A side closed: pass the close on.
                try:
                    writer.write_eof()
                except (OSError, RuntimeError):
                    pass

        tasks = [asyncio.ensure_future(pump("c2s", c_reader, s_writer)),
                 asyncio.ensure_future(pump("s2c", s_reader, c_writer))]
        fault_wait = asyncio.ensure_future(fault.wait())
        await asyncio.wait(tasks + [fault_wait], return_when=asyncio.FIRST_COMPLETED)
        if fault.is_set():
            self.fired[action] += 1
            if self.log:
                self.log.write(f"fired {cid} {action} {direction} {offset}\n")
            for t in tasks:
                t.cancel()
            if action == "drop":
                reset(c_writer)
                s_writer.close()
            else:
                # Stall: forward nothing more; wait (bounded) until the client closes.
                try:
                    while True:
                        data = await asyncio.wait_for(c_reader.read(65536), STALL_MAX_S)
                        if not data:
                            break
                except (asyncio.TimeoutError, ConnectionError, OSError):
                    pass
                reset(c_writer)
                s_writer.close()
        else:
            await asyncio.wait(tasks, timeout=STALL_MAX_S)
            fault_wait.cancel()
            c_writer.close()
            s_writer.close()

    def summary(self):
        total = sum(self.counts.values())
        return "summary connections=%d drawn_drop=%d drawn_stall=%d fired_drop=%d fired_stall=%d seed=%s" % (
            total, self.counts["drop"], self.counts["stall"], self.fired["drop"], self.fired["stall"], self.args.seed)


def reset(writer):
    """Closes towards the client with an RST (SO_LINGER 0)."""
    sock = writer.get_extra_info("socket")
    try:
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    writer.transport.abort()


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen-port-file", required=True)
    ap.add_argument("--upstream-port", type=int, default=2525)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--drop", type=float, default=0.03)
    ap.add_argument("--stall", type=float, default=0.02)
    ap.add_argument("--log")
    args = ap.parse_args()
    proxy = Proxy(args)
    server = await asyncio.start_server(proxy.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    with open(args.listen_port_file, "w") as f:
        f.write("%d\n" % port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()
    line = proxy.summary()
    if proxy.log:
        proxy.log.write(line + "\n")
    print("soak-proxy: " + line, file=sys.stderr)


if __name__ == "__main__":
    asyncio.run(main())
