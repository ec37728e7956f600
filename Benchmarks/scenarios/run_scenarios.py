#!/usr/bin/env python3
"""End-to-end scenarios through a real Mosquitto, each as a ratio to a reference broker measured
under the same load in the same run (see README.md next to this file).

  run_scenarios.py --cwauth BIN --plugin SO --out DIR [--policy-dir DIR] [--seconds S]
                   [--only NAME,...] [--rounds R] [--probe-rate HZ] [--bg-rate MSG_S]
                   [--storm-clients N] [--attack-conns C]

Scenarios (names for --only): happy, denied_flood, bruteforce, registry_flood, held_lock, rebuild, storm.

Writes DIR/scenarios.json (one object per result row: name, metric, baseline, value, ratio, target,
met, details) and DIR/logs/ (broker logs, worker outputs); prints a markdown table on stdout and
progress on stderr. Every broker and worker is started by this script, bounded in time, and killed
in a finally block.

Python 3 standard library only (MQTT 3.1.1 packets are built by hand on raw sockets); the
throughput figures come from Benchmarks/throughput/loadgen (built with make if missing).
The `--worker KIND CONFIG.json RESULT.json` form is internal: the probe, the background load and
the attackers each run in a process of their own, so that none of them measures another's
Python scheduling.
"""

import argparse
import hashlib
import json
import os
import pwd
import random
import resource
import selectors
import shutil
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCH = HERE.parent
ROOT = BENCH.parent
DATA = BENCH / ".data" / "scenarios"
GEN_POLICY = BENCH / "policy" / "gen_policy.py"
LOADGEN_DIR = BENCH / "throughput"
LOADGEN = LOADGEN_DIR / "loadgen"

BENCH_PASS = "bench-pass"          # password of every gen_policy user (and of bench-sub / the probe)
PROBE_USER = "scen-probe"
SUB_USER = "bench-sub"
VICTIM_USER = "scen-victim"
SPRAY_USERS = 200
SPRAY_SOURCES = 1000               # source addresses of the spray (127.1.x.y)
FLOOD_USER = "scen-flooder"
FLOOD_PERMS_PER_ROLE = 800
FLOOD_TOPIC_CWAUTH = "plant/p1/cell1/cmd/reset"   # near miss for both flooder roles (see flood_roles)
FLOOD_TOPIC_NOAUTH = "$flood/p1/cell1/cmd/reset"  # '#' does not match '$' topics: nobody receives it
THROUGHPUT_TARGET = 0.9
LATENCY_TARGET = 1.5


def log(msg):
    print(f"[scenarios {time.monotonic() - T0:6.1f}s] {msg}", file=sys.stderr, flush=True)


T0 = time.monotonic()

# ------------------------------------------------------------------------------------------------
# MQTT 3.1.1 packets on raw sockets
# ------------------------------------------------------------------------------------------------


def _varint(n):
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _s16(data):
    if isinstance(data, str):
        data = data.encode()
    return struct.pack(">H", len(data)) + data


def connect_packet(client_id, username=None, password=None, keepalive=0):
    flags = 0x02  # clean session
    payload = _s16(client_id)
    if username is not None:
        flags |= 0x80
        payload += _s16(username)
    if password is not None:
        flags |= 0x40
        payload += _s16(password)
    body = _s16("MQTT") + bytes([4, flags]) + struct.pack(">H", keepalive) + payload
    return b"\x10" + _varint(len(body)) + body


def publish_packet(topic, payload):
    body = _s16(topic) + payload
    return b"\x30" + _varint(len(body)) + body


def subscribe_packet(packet_id, topic_filter, qos=0):
    body = struct.pack(">H", packet_id) + _s16(topic_filter) + bytes([qos])
    return b"\x82" + _varint(len(body)) + body


DISCONNECT = b"\xe0\x00"


class PacketReader:
    """Splits a byte stream into (type, flags, body) packets."""

    def __init__(self):
        self.buf = bytearray()

    def feed(self, data):
        self.buf += data
        out = []
        while True:
            if len(self.buf) < 2:
                return out
            mult, length, i = 1, 0, 1
            while True:
                if i >= len(self.buf):
                    return out
                byte = self.buf[i]
                length += (byte & 0x7F) * mult
                mult *= 128
                i += 1
                if not byte & 0x80:
                    break
            if len(self.buf) < i + length:
                return out
            out.append((self.buf[0] >> 4, self.buf[0] & 0x0F, bytes(self.buf[i:i + length])))
            del self.buf[:i + length]


def publish_topic_payload(body):
    n = struct.unpack(">H", body[:2])[0]
    return body[2:2 + n], body[2 + n:]  # QoS 0 only: no packet id


def mqtt_connect(port, client_id, username, password, timeout=30.0):
    """Blocking CONNECT; returns the socket after a CONNACK with return code 0."""
    deadline = time.monotonic() + timeout
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.sendall(connect_packet(client_id, username, password))
    data = b""
    while len(data) < 4:
        sock.settimeout(max(0.1, deadline - time.monotonic()))
        chunk = sock.recv(4 - len(data))
        if not chunk:
            raise ConnectionError(f"{username}: closed before CONNACK")
        data += chunk
    if data[0] != 0x20 or data[3] != 0:
        raise ConnectionError(f"{username}: CONNACK {data.hex()}")
    return sock


def mqtt_subscribe(sock, topic_filter, timeout=10.0):
    sock.sendall(subscribe_packet(1, topic_filter))
    reader = PacketReader()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sock.settimeout(max(0.1, deadline - time.monotonic()))
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed before SUBACK")
        for ptype, _, body in reader.feed(chunk):
            if ptype == 9:
                if body[-1] == 0x80:
                    raise ConnectionError(f"SUBSCRIBE {topic_filter} refused")
                return reader
    raise TimeoutError("no SUBACK")


def percentile(values, q):
    """Nearest-rank percentile of a list (None entries count as +infinity: lost)."""
    if not values:
        return None
    ordered = sorted(float("inf") if v is None else v for v in values)
    k = max(0, min(len(ordered) - 1, int(round(q / 100.0 * len(ordered) + 0.5)) - 1))
    return ordered[k]


def finite(x):
    return None if x is None or x == float("inf") else x


def wait_until(t):
    delay = t - time.monotonic()
    if delay > 0:
        time.sleep(delay)


# ------------------------------------------------------------------------------------------------
# Workers (each runs in a process of its own: `--worker KIND CONFIG RESULT`)
# ------------------------------------------------------------------------------------------------


def worker_probe(cfg):
    """A well-behaved client: publishes QoS 0 at `rate` Hz to its own topic, subscribed to it, and
    records (send time, publish->receive latency in ms or None if lost) for every message."""
    sock = mqtt_connect(cfg["port"], f"probe-{os.getpid()}", cfg["user"], cfg["password"], cfg.get("connect_timeout", 60))
    reader = mqtt_subscribe(sock, cfg["topic"])
    print("ready", flush=True)
    sock.setblocking(False)
    interval = 1.0 / cfg["rate"]
    start = time.monotonic()
    end = start + cfg["seconds"]
    drain_end = None
    sent, samples, seq, next_t = {}, [], 0, start
    error = None
    sel = selectors.DefaultSelector()
    sel.register(sock, selectors.EVENT_READ)
    stop_file = cfg.get("stop_file")
    while True:
        now = time.monotonic()
        if stop_file and now < end and os.path.exists(stop_file):
            end = now  # the orchestrator is done with this probe
        if now < end and now >= next_t:
            packet = publish_packet(cfg["topic"], struct.pack(">Q", seq) + b"p" * 24)
            t_send = time.monotonic()
            try:
                sock.send(packet)
            except BlockingIOError:
                sock.setblocking(True)
                sock.sendall(packet)
                sock.setblocking(False)
            sent[seq] = t_send
            seq += 1
            next_t += interval
            if next_t < now - 0.05:   # this process was descheduled: skip slots rather than burst
                next_t = now
        if now >= end:
            if drain_end is None:
                drain_end = now + cfg.get("drain", 5.0)
            if not sent or now >= drain_end:
                break
        timeout = max(0.0, (drain_end if now >= end else min(next_t, end)) - time.monotonic())
        for _ in sel.select(timeout):
            try:
                data = sock.recv(1 << 16)
            except BlockingIOError:
                continue
            t_recv = time.monotonic()
            if not data:
                error = "broker closed the probe's connection"
                break
            for ptype, _, body in reader.feed(data):
                if ptype == 3:
                    _, payload = publish_topic_payload(body)
                    s = struct.unpack(">Q", payload[:8])[0]
                    t_send = sent.pop(s, None)
                    if t_send is not None:
                        samples.append([t_send, (t_recv - t_send) * 1000.0])
        if error:
            break
    for s, t_send in sent.items():
        samples.append([t_send, None])
    samples.sort()
    try:
        sock.setblocking(True)
        sock.sendall(DISCONNECT)
    except OSError:
        pass
    sock.close()
    return {"samples": samples, "sent": seq, "lost": len(sent), "error": error}


def worker_bgload(cfg):
    """Steady open-loop background traffic: each publisher sends QoS 0 at rate/len(pubs) msg/s to its
    topic; one subscriber on cfg['sub_filter'] reads (and counts) everything."""
    pubs = [mqtt_connect(cfg["port"], f"bg-{os.getpid()}-{i}", u, p, 60) for i, (u, p, _) in enumerate(cfg["pubs"])]
    topics = [t for _, _, t in cfg["pubs"]]
    sub = mqtt_connect(cfg["port"], f"bgsub-{os.getpid()}", cfg["sub_user"], cfg["sub_password"], 60)
    reader = mqtt_subscribe(sub, cfg["sub_filter"])
    sub.setblocking(False)
    print("ready", flush=True)
    packets = [publish_packet(t, b"x" * 32) for t in topics]
    per_pub = cfg["rate"] / len(pubs)
    tick = 0.01
    start = time.monotonic()
    end = start + cfg["seconds"]
    published = received = 0
    owed = [0.0] * len(pubs)
    next_t = start
    while True:
        now = time.monotonic()
        if now >= end:
            break
        if now >= next_t:
            for i, s in enumerate(pubs):
                owed[i] += per_pub * tick
                n = int(owed[i])
                if n:
                    owed[i] -= n
                    s.sendall(packets[i] * n)
                    published += n
            next_t += tick
            if next_t < now - 0.1:
                next_t = now
        r, _, _ = select_read([sub], max(0.0, min(next_t, end) - time.monotonic()))
        if r:
            try:
                data = sub.recv(1 << 18)
            except BlockingIOError:
                data = None
            if data == b"":
                break
            if data:
                received += sum(1 for p in reader.feed(data) if p[0] == 3)
    elapsed = time.monotonic() - start
    for s in pubs + [sub]:
        try:
            s.setblocking(True)
            s.sendall(DISCONNECT)
            s.close()
        except OSError:
            pass
    return {"published": published, "received": received, "seconds": elapsed,
            "published_per_second": published / elapsed, "received_per_second": received / elapsed}


def select_read(socks, timeout):
    import select
    return select.select(socks, [], [], timeout)


def worker_flood(cfg):
    """One client publishing QoS 0 to one topic as fast as the broker takes it (TCP back-pressure)."""
    sock = mqtt_connect(cfg["port"], f"flood-{os.getpid()}", cfg["user"], cfg["password"], 60)
    batch_n = 256
    batch = publish_packet(cfg["topic"], b"f" * 32) * batch_n
    print("ready", flush=True)
    wait_until(cfg.get("start_at", 0))
    sock.settimeout(0.5)
    start = time.monotonic()
    end = start + cfg["seconds"]
    sent_bytes = 0
    error = None
    while time.monotonic() < end and sent_bytes < cfg["max_count"] * (len(batch) // batch_n):
        try:
            sent_bytes += sock.send(batch)
        except socket.timeout:
            continue
        except OSError as exc:
            error = f"{type(exc).__name__}: {exc}"
            break
    elapsed = time.monotonic() - start
    sent = sent_bytes // (len(batch) // batch_n)
    sock.close()
    return {"sent": sent, "seconds": elapsed, "per_second": sent / elapsed, "error": error,
            "start": start, "end": start + elapsed}


def worker_connect_flood(cfg):
    """`conns` CONNECT attempts in flight at a time (non-blocking sockets), each: TCP connect,
    CONNECT, wait for CONNACK, close. mode: brute (one username, wrong passwords), spray (many
    usernames, wrong passwords), registry (a new unknown username per attempt, password >= 5)."""
    mode = cfg["mode"]
    users = cfg.get("users") or []
    tag = f"{os.getpid()}"
    rng = random.Random(cfg.get("seed", 1))

    def attempt_packet(i):
        cid = f"cf-{tag}-{i}"
        if mode == "brute":
            return connect_packet(cid, cfg["user"], f"wrong-{rng.getrandbits(48):x}")
        if mode == "spray":
            return connect_packet(cid, users[i % len(users)], f"wrong-{rng.getrandbits(48):x}")
        if mode == "registry":
            return connect_packet(cid, f"reg-{tag}-{i}", f"knock-{i:08d}")
        raise ValueError(mode)

    sources = cfg.get("sources", 1)
    sel = selectors.DefaultSelector()
    print("ready", flush=True)
    wait_until(cfg.get("start_at", 0))
    start = time.monotonic()
    end = start + cfg["seconds"]
    started = 0
    rcs = {}
    latencies = []
    inflight = {}

    def finish(sock, outcome):
        t0 = inflight.pop(sock)[0]
        sel.unregister(sock)
        sock.close()
        rcs[outcome] = rcs.get(outcome, 0) + 1
        if isinstance(outcome, int):
            latencies.append((time.monotonic() - t0) * 1000.0)

    while True:
        now = time.monotonic()
        while now < end and started < cfg["max_count"] and len(inflight) < cfg["conns"]:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if sources > 1:  # a distributed attacker: the whole of 127.0.0.0/8 is loopback
                k = started % sources
                s.bind((f"127.{1 + k // 62500}.{(k // 250) % 250}.{1 + k % 250}", 0))
            s.connect_ex(("127.0.0.1", cfg["port"]))
            inflight[s] = [time.monotonic(), attempt_packet(started), b""]
            sel.register(s, selectors.EVENT_WRITE)
            started += 1
        if not inflight:
            break
        if now > end + 5:  # attempts still unanswered 5 s after the end
            for s in list(inflight):
                finish(s, "timeout")
            break
        for key, events in sel.select(0.05):
            s = key.fileobj
            state = inflight.get(s)
            if state is None:
                continue
            if events & selectors.EVENT_WRITE and state[1] is not None:
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    finish(s, "connect-error")
                    continue
                try:
                    s.send(state[1])
                except OSError:
                    finish(s, "send-error")
                    continue
                state[1] = None
                sel.modify(s, selectors.EVENT_READ)
            elif events & selectors.EVENT_READ:
                try:
                    data = s.recv(64)
                except OSError:
                    finish(s, "reset")
                    continue
                if not data:
                    finish(s, "closed-without-connack")
                    continue
                state[2] += data
                if len(state[2]) >= 4:
                    finish(s, state[2][3])
    elapsed = time.monotonic() - start
    answered = sum(v for k, v in rcs.items() if isinstance(k, int))
    return {"mode": mode, "attempts": started, "answered": answered, "seconds": elapsed,
            "answered_per_second": answered / elapsed if elapsed else 0,
            "outcomes": {str(k): v for k, v in sorted(rcs.items(), key=lambda kv: str(kv[0]))},
            "connack_ms_p50": percentile(latencies, 50), "connack_ms_p99": percentile(latencies, 99),
            "start": start, "end": start + elapsed}


def worker_storm(cfg):
    """N clients with distinct users connect as fast as possible (at most `inflight` handshakes at a
    time, below the listen backlog) and stay connected until the last one is in. A connection closed
    without a CONNACK is tried again after `retry_delay` s, as a client with automatic reconnect
    does (cwauth asks a client to come back while its password is verified off the broker thread)."""
    users = cfg["users"]
    sel = selectors.DefaultSelector()
    packets = [connect_packet(f"storm-{i}", u, p) for i, (u, p) in enumerate(users)]
    print("ready", flush=True)
    wait_until(cfg.get("start_at", 0))
    start = time.monotonic()
    deadline = start + cfg["timeout"]
    nxt = 0
    pending = {}
    done = []
    outcomes = {}
    latencies = []
    last_connack = None
    retries = []  # (due time, user index, first attempt's start)
    retried = 0
    delay = cfg.get("retry_delay", 1.0)
    while (nxt < len(users) or pending or retries) and time.monotonic() < deadline:
        while len(pending) < cfg["inflight"]:
            now = time.monotonic()
            if retries and retries[0][0] <= now:
                _, idx, first = retries.pop(0)
            elif nxt < len(users):
                idx, first = nxt, now
                nxt += 1
            else:
                break
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            s.connect_ex(("127.0.0.1", cfg["port"]))
            pending[s] = [first, packets[idx], b"", idx]
            sel.register(s, selectors.EVENT_WRITE)
        for key, events in sel.select(0.05):
            s = key.fileobj
            st = pending[s]
            if st[1] is not None:
                if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                    outcome = "connect-error"
                else:
                    try:
                        s.send(st[1])
                        st[1] = None
                        sel.modify(s, selectors.EVENT_READ)
                        continue
                    except OSError:
                        outcome = "send-error"
            else:
                try:
                    data = s.recv(64)
                except OSError:
                    data = b""
                if not data:
                    outcome = "closed"
                else:
                    st[2] += data
                    if len(st[2]) < 4:
                        continue
                    outcome = st[2][3]
            sel.unregister(s)
            pending.pop(s)
            if outcome == "closed":
                retried += 1
                retries.append((time.monotonic() + delay, st[3], st[0]))
                s.close()
                continue
            outcomes[str(outcome)] = outcomes.get(str(outcome), 0) + 1
            if outcome == 0:
                last_connack = time.monotonic()
                latencies.append((last_connack - st[0]) * 1000.0)
                done.append(s)
            else:
                s.close()
    for s in pending:
        outcomes["timeout"] = outcomes.get("timeout", 0) + 1
        s.close()
    outcomes["timeout"] = outcomes.get("timeout", 0) + len(retries)
    outcomes["came back"] = retried
    connected = len(done)
    all_in = (last_connack - start) if connected == len(users) and last_connack else None
    for s in done:
        try:
            s.send(DISCONNECT)
        except OSError:
            pass
        s.close()
    return {"clients": len(users), "connected": connected, "outcomes": outcomes, "start": start,
            "end": (last_connack or time.monotonic()), "seconds_to_all_connected": all_in,
            "connect_ms_p50": percentile(latencies, 50), "connect_ms_p99": percentile(latencies, 99),
            "connect_ms_max": max(latencies) if latencies else None}


WORKERS = {"probe": worker_probe, "bgload": worker_bgload, "flood": worker_flood,
           "connect_flood": worker_connect_flood, "storm": worker_storm}


def worker_main(kind, config_path, result_path):
    cfg = json.loads(Path(config_path).read_text())
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ValueError, OSError):
        pass
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(3))
    result = WORKERS[kind](cfg)
    Path(result_path).write_text(json.dumps(result))


# ------------------------------------------------------------------------------------------------
# Processes: brokers and workers, always stopped
# ------------------------------------------------------------------------------------------------

PROCS = []


def stop_proc(proc, grace=5.0):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def stop_all():
    for proc in reversed(PROCS):
        try:
            stop_proc(proc)
        except Exception:  # noqa: BLE001 - best effort on the way out
            pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def broker_user():
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("mosquitto")
    except KeyError:
        return None


def give_to_broker(*paths):
    user = broker_user()
    if not user:
        return
    for p in paths:
        p = Path(p)
        for q in [p, Path(str(p) + "-wal"), Path(str(p) + "-shm")]:
            if q.exists():
                os.chown(q, user.pw_uid, user.pw_gid)


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class Broker:
    """kind: noauth (allow_anonymous true), cwauth (plugin + db), passwd (password_file)."""

    def __init__(self, run, name, kind, db=None, passwd=None, plugin_opts=None):
        self.run, self.name, self.kind = run, name, kind
        self.port = free_port()
        self.dir = run.tmp / f"broker-{name}-{self.port}"
        self.dir.mkdir()
        self.dir.chmod(0o755)
        self.log_path = run.logs / f"mosquitto-{name}.log"
        lines = ["log_dest stderr", "log_type error", "log_type warning", "log_type notice", "log_type information",
                 "set_tcp_nodelay true", "max_queued_messages 10000", "persistence false"]
        if kind == "cwauth":
            self.db = self.dir / "cwauth.db"
            shutil.copy(db, self.db)
            lines += [f"plugin {run.plugin}", f"plugin_opt_database {self.db}"]
            lines += [f"plugin_opt_{k} {v}" for k, v in (plugin_opts or {}).items()]
        elif kind == "passwd":
            self.passwd = self.dir / "passwd"
            shutil.copy(passwd, self.passwd)
            lines += [f"password_file {self.passwd}"]
        lines += [f"listener {self.port} 127.0.0.1", "allow_anonymous " + ("true" if kind == "noauth" else "false")]
        self.conf = self.dir / "mosquitto.conf"
        self.conf.write_text("\n".join(lines) + "\n")
        user = broker_user()
        if user:
            for p in [self.dir, *self.dir.iterdir()]:
                os.chown(p, user.pw_uid, user.pw_gid)
        self.proc = None
        self.startup_seconds = None

    def start(self, timeout=120):
        self.logf = open(self.log_path, "a")
        t0 = time.monotonic()
        self.proc = subprocess.Popen(["mosquitto", "-c", str(self.conf)], stdout=self.logf, stderr=subprocess.STDOUT,
                                     preexec_fn=raise_nofile)
        PROCS.append(self.proc)
        while time.monotonic() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mosquitto {self.name} exited {self.proc.returncode}: {self.log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    self.startup_seconds = time.monotonic() - t0
                    return self
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"mosquitto {self.name} did not listen within {timeout} s: {self.log_tail()}")

    def stop(self):
        if self.proc:
            stop_proc(self.proc)
        if getattr(self, "logf", None):
            self.logf.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log_text(self):
        return self.log_path.read_text(errors="replace")

    def log_tail(self, n=15):
        return "\n".join(self.log_text().splitlines()[-n:])

    def count_in_log(self, needle):
        return self.log_text().count(needle)

    def rss_kb(self):
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return None

    def cpu_seconds(self):
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Worker:
    """A worker process: `--worker KIND cfg.json result.json`; waits for its `ready` line."""

    def __init__(self, run, kind, cfg, name, ready_timeout=90):
        self.run, self.kind, self.name = run, kind, name
        self.cfg_path = run.tmp / f"{name}.cfg.json"
        self.result_path = run.tmp / f"{name}.result.json"
        self.cfg_path.write_text(json.dumps(cfg))
        self.err_path = run.logs / f"worker-{name}.err"
        self.errf = open(self.err_path, "w")
        self.proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--worker", kind,
                                      str(self.cfg_path), str(self.result_path)],
                                     stdout=subprocess.PIPE, stderr=self.errf, text=True)
        PROCS.append(self.proc)
        self.ready_timeout = ready_timeout

    def wait_ready(self):
        import select
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            r, _, _ = select.select([self.proc.stdout], [], [], 0.2)
            if r:
                line = self.proc.stdout.readline()
                if line.strip() == "ready":
                    return self
                if line == "":
                    break
            if self.proc.poll() is not None:
                break
        stop_proc(self.proc)
        raise RuntimeError(f"worker {self.name} not ready: {self.err_path.read_text()[-800:]}")

    def result(self, timeout):
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            stop_proc(self.proc)
            raise RuntimeError(f"worker {self.name} did not finish in {timeout:.0f} s")
        finally:
            self.errf.close()
        if self.proc.returncode != 0 or not self.result_path.exists():
            raise RuntimeError(f"worker {self.name} failed ({self.proc.returncode}): {self.err_path.read_text()[-800:]}")
        shutil.copy(self.result_path, self.run.logs / f"worker-{self.name}.json")
        return json.loads(self.result_path.read_text())


# ------------------------------------------------------------------------------------------------
# Data: policies and prepared databases (cached under Benchmarks/.data/scenarios)
# ------------------------------------------------------------------------------------------------


def sha(*parts):
    h = hashlib.sha256()
    for p in parts:
        h.update(p if isinstance(p, bytes) else str(p).encode())
        h.update(b"\0")
    return h.hexdigest()[:16]


def file_sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:16]


class Run:
    def __init__(self, args):
        self.args = args
        self.tmp = Path(tempfile.mkdtemp(prefix="cwauth-scenarios-"))
        self.tmp.chmod(0o755)
        self.out = Path(args.out).resolve()
        self.logs = self.out / "logs"
        if self.logs.exists():
            shutil.rmtree(self.logs)
        self.logs.mkdir(parents=True)
        # Private copies: a rebuild of .build/release during the run must not change what is measured,
        # and the broker (user mosquitto) must be able to load the plugin from a folder it can enter.
        self.plugin = self.tmp / "libcwauth_mosquitto.so"
        shutil.copy(args.plugin, self.plugin)
        self.plugin.chmod(0o755)
        self.cwauth = self.tmp / "cwauth"
        shutil.copy(args.cwauth, self.cwauth)
        self.cwauth.chmod(0o755)
        DATA.mkdir(parents=True, exist_ok=True)
        self._schema = None

    def cli(self, db, *argv, input=None, timeout=600):
        proc = subprocess.run([str(self.cwauth), "--db", str(db), *map(str, argv)], input=input,
                              capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            raise RuntimeError(f"cwauth {' '.join(map(str, argv))}: {proc.stderr.strip() or proc.stdout.strip()}")
        give_to_broker(db)
        return proc.stdout

    def schema_stamp(self):
        """What a prepared database depends on besides its inputs: the CLI's schema and its default
        hash cost (read from a throw-away database)."""
        if self._schema is None:
            db = self.tmp / "schema-probe.db"
            self.cli(db, "init")
            self.cli(db, "user", "add", "schema-probe", "--password", "schema-probe-pw")
            export = json.loads(self.cli(db, "export", "--format", "json"))
            cost = export["users"][0].get("passwordHash", "").split("$")[2:3]
            con = sqlite3.connect(db)
            schema = "\n".join(r[0] or "" for r in con.execute("SELECT sql FROM sqlite_master ORDER BY name"))
            version = con.execute("PRAGMA user_version").fetchone()[0]
            con.close()
            self._schema = sha(schema, version, cost)
        return self._schema

    def policy(self, name, roles, perms, users):
        out = DATA / f"policy-{name}"
        stamp = sha(file_sha(GEN_POLICY), roles, perms, users, 2000, 1)
        if not ((out / ".stamp").exists() and (out / ".stamp").read_text() == stamp and (out / "checks.tsv").exists()):
            log(f"generating policy {name}: {roles} roles x {perms} permissions, {users} users")
            shutil.rmtree(out, ignore_errors=True)
            subprocess.run([sys.executable, str(GEN_POLICY), "--roles", str(roles), "--perms-per-role", str(perms),
                            "--users", str(users), "--checks", "2000", "--seed", "1", "--out", str(out)],
                           check=True, capture_output=True, timeout=1200)
            (out / ".stamp").write_text(stamp)
        return out

    def database(self, name, documents):
        """cwauth init + apply of each document (paths or dicts), cached by content and schema."""
        paths = []
        for i, doc in enumerate(documents):
            if isinstance(doc, dict):
                p = self.tmp / f"{name}-doc{i}.json"
                p.write_text(json.dumps(doc, sort_keys=True))
                paths.append(p)
            else:
                paths.append(Path(doc))
        stamp = sha(self.schema_stamp(), *[file_sha(p) for p in paths])
        db = DATA / f"{name}.db"
        stamp_path = DATA / f"{name}.db.stamp"
        if db.exists() and stamp_path.exists() and stamp_path.read_text() == stamp:
            return db, None
        log(f"preparing database {name} (cwauth init + apply of {len(paths)} file(s))")
        for suffix in ("", "-wal", "-shm"):
            Path(str(db) + suffix).unlink(missing_ok=True)
        self.cli(db, "init")
        t0 = time.monotonic()
        for p in paths:
            self.cli(db, "apply", p, timeout=1800)
        apply_seconds = time.monotonic() - t0
        stamp_path.write_text(stamp)
        return db, apply_seconds


def policy_hash(policy_dir):
    """The $7$ hash of bench-pass that gen_policy gives every user (used for bench-sub and the probe)."""
    with open(policy_dir / "cwauth.json") as f:
        head = f.read(1 << 16)
    i = head.find('"passwordHash"')
    if i < 0:
        doc = json.load(open(policy_dir / "cwauth.json"))
        return doc["users"][0]["passwordHash"]
    j = head.index('"', head.index(":", i) + 1)
    return head[j + 1:head.index('"', j + 1)]


def allowed_writes(policy_dir):
    """username -> [topics] from the allowed write checks."""
    out = {}
    for line in open(policy_dir / "checks.tsv"):
        f = line.rstrip("\n").split("\t")
        if len(f) >= 5 and f[3] == "write" and f[4] == "allow":
            out.setdefault(f[0], []).append(f[2])
    return out


def flood_roles():
    """Two roles of FLOOD_PERMS_PER_ROLE permissions each, none matching FLOOD_TOPIC_CWAUTH
    (plant/p1/cell1/cmd/reset): same first levels, level 4 is never `cmd`."""
    a = [{"resource": f"plant/p{i % 20}/cell{i}/sensor/+", "operation": "write", "context": "mqtt"}
         for i in range(FLOOD_PERMS_PER_ROLE // 2)]
    a += [{"resource": f"plant/p{i % 20}/cell{i}/status", "operation": "readWrite", "context": "mqtt"}
          for i in range(FLOOD_PERMS_PER_ROLE // 2)]
    b = [{"resource": f"plant/+/cell{i}/actuator/#", "operation": "write", "context": "mqtt"}
         for i in range(FLOOD_PERMS_PER_ROLE // 2)]
    b += [{"resource": f"plant/p{i % 20}/cell{i}/cmd-ack", "operation": "readWrite", "context": "mqtt"}
          for i in range(FLOOD_PERMS_PER_ROLE // 2)]
    return [{"name": "scen-flood-a", "permissions": a}, {"name": "scen-flood-b", "permissions": b}]


def friendly_doc(bench_hash):
    return {
        "roles": [
            {"name": "bench-subscriber", "permissions": [{"resource": "#", "operation": "read", "context": "mqtt"}]},
            {"name": "scen-probe", "permissions": [{"resource": "probe/#", "operation": "readWrite", "context": "mqtt"}]},
        ],
        "users": [
            {"username": SUB_USER, "passwordHash": bench_hash, "roles": ["bench-subscriber"]},
            {"username": PROBE_USER, "passwordHash": bench_hash, "roles": ["scen-probe"]},
        ],
    }


def attack_doc():
    """The brute-force victim and spray targets (default-cost hashes from `password`), the flooder."""
    return {
        "roles": flood_roles(),
        "users": [{"username": VICTIM_USER, "password": "victim-real-password", "roles": []}]
        + [{"username": f"scen-spray-{i:03d}", "password": f"spray-real-{i:03d}", "roles": []} for i in range(SPRAY_USERS)]
        + [{"username": FLOOD_USER, "password": BENCH_PASS, "roles": ["scen-flood-a", "scen-flood-b"]}],
    }


def storm_users(n):
    return [(f"storm-{i:05d}", f"storm-pass-{i:05d}") for i in range(n)]


def password_file(run, entries):
    """mosquitto_passwd -U over `user:password` lines (its default: sha512-pbkdf2, 101 iterations)."""
    key = sha(*[f"{u}:{p}" for u, p in entries])
    path = DATA / f"passwd-{key}"
    if not path.exists():
        tmp = run.tmp / "passwd.plain"
        tmp.write_text("".join(f"{u}:{p}\n" for u, p in entries))
        subprocess.run(["mosquitto_passwd", "-U", str(tmp)], check=True, capture_output=True, timeout=300)
        shutil.copy(tmp, path)
    return path


# ------------------------------------------------------------------------------------------------
# Measurements
# ------------------------------------------------------------------------------------------------


def run_loadgen(run, broker, topics_tsv, seconds, label):
    cmd = [str(LOADGEN), "-p", str(broker.port), "-t", str(topics_tsv), "-n", "20", "-s", "1", "-d", str(seconds),
           "-w", "2000", "-b", "64", "-P", BENCH_PASS, "-u", SUB_USER]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30)
    run.logs.mkdir(parents=True, exist_ok=True)
    with open(run.logs / "loadgen.err", "a") as f:
        f.write(f"--- {label}\n{proc.stderr}")
    if proc.returncode != 0:
        raise RuntimeError(f"loadgen {label} failed ({proc.returncode}): {proc.stderr.strip()[-300:]}; "
                           f"broker: {broker.log_tail(5)}")
    fields = dict(kv.split("=", 1) for kv in proc.stdout.split())
    return {k: float(v) for k, v in fields.items()}


def median(xs):
    xs = sorted(x for x in xs if x is not None)
    if not xs:
        return None
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def window_stats(samples, t0, t1):
    lat = [s[1] for s in samples if t0 <= s[0] < t1]
    return {"n": len(lat), "lost": sum(1 for v in lat if v is None),
            "p50_ms": finite(percentile(lat, 50)), "p99_ms": finite(percentile(lat, 99)),
            "max_ms": finite(percentile(lat, 100))}


def windows_stats(samples, windows):
    lat = [s[1] for s in samples if any(a <= s[0] < b for a, b in windows)]
    return {"n": len(lat), "lost": sum(1 for v in lat if v is None),
            "p50_ms": finite(percentile(lat, 50)), "p99_ms": finite(percentile(lat, 99)),
            "max_ms": finite(percentile(lat, 100))}


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


class Probed:
    """The probe plus the steady background load on one broker, for `seconds` in total."""

    def __init__(self, run, broker, seconds, bg, label, topic=None, bg_sub=(SUB_USER, BENCH_PASS)):
        a = run.args
        self.stop_file = run.tmp / f"probe-{label}.stop"
        self.probe = Worker(run, "probe", {"port": broker.port, "user": PROBE_USER, "password": BENCH_PASS,
                                           "topic": topic or f"probe/{label}", "rate": a.probe_rate,
                                           "seconds": seconds, "stop_file": str(self.stop_file)}, f"probe-{label}")
        self.bg = None
        if bg and a.bg_rate > 0:
            self.bg = Worker(run, "bgload", {"port": broker.port, "pubs": bg, "sub_user": bg_sub[0],
                                             "sub_password": bg_sub[1], "sub_filter": "#", "rate": a.bg_rate,
                                             "seconds": seconds}, f"bgload-{label}")
        self.probe.wait_ready()
        if self.bg:
            self.bg.wait_ready()
        self.seconds = seconds
        self.t_start = time.monotonic()

    def stop(self):
        """Ends the probe now (it still waits for its messages in flight, up to its drain time)."""
        self.stop_file.touch()

    def results(self):
        probe = self.probe.result(self.seconds + 60)
        bg = self.bg.result(self.seconds + 60) if self.bg else None
        return probe, bg


def bg_publishers(policy_dir, n=10):
    writes = allowed_writes(policy_dir)
    return [(u, BENCH_PASS, ts[0]) for u, ts in list(writes.items())[:n]]


# --- 1. happy path ---------------------------------------------------------------------------------


def scenario_happy(run, ctx):
    a = run.args
    rows = {"noauth": [], "cwauth": []}
    with Broker(run, "happy-noauth", "noauth") as nb, Broker(run, "happy-cwauth", "cwauth", db=ctx["main_db"]) as cb:
        for r in range(a.rounds):
            # Each round swaps which broker goes first, so that neither always meets a machine
            # the other has just warmed (or heated).
            pair = (("noauth", nb), ("cwauth", cb))
            for name, b in (pair if r % 2 == 0 else pair[::-1]):
                res = run_loadgen(run, b, ctx["topics_tsv"], a.seconds, f"happy r{r + 1} {name}")
                rows[name].append(res["messages_per_second"])
                log(f"happy round {r + 1} {name}: {res['messages_per_second']:.0f} msg/s")
    ratios = [c / n for n, c in zip(rows["noauth"], rows["cwauth"])]
    return [row("happy", "msg/s delivered, 20 publishers -> 1 subscriber (loadgen, QoS 0)",
                median(rows["noauth"]), median(rows["cwauth"]), median(ratios), ">=", THROUGHPUT_TARGET,
                {"rounds_noauth": rows["noauth"], "rounds_cwauth": rows["cwauth"], "round_ratios": ratios,
                 "policy_rules": ctx["rules"], "baseline_is": "no-auth broker"})]


# --- 2. denied flood -------------------------------------------------------------------------------


def scenario_denied_flood(run, ctx):
    a = run.args
    tp = {"noauth": [], "cwauth": []}
    floods = {"noauth": [], "cwauth": []}
    with Broker(run, "flood-noauth", "noauth") as nb, \
            Broker(run, "flood-cwauth", "cwauth", db=ctx["main_db"], plugin_opts=ctx.get("plugin_opts")) as cb:
        for r in range(a.rounds):
            pair = (("noauth", nb, FLOOD_TOPIC_NOAUTH), ("cwauth", cb, FLOOD_TOPIC_CWAUTH))
            for name, b, topic in (pair if r % 2 == 0 else pair[::-1]):
                fl = Worker(run, "flood", {"port": b.port, "user": FLOOD_USER, "password": BENCH_PASS, "topic": topic,
                                           "seconds": a.seconds + 3.0, "max_count": 200_000_000},
                            f"flood-{name}-r{r + 1}").wait_ready()
                time.sleep(0.3)  # the flood is under way before loadgen connects
                res = run_loadgen(run, b, ctx["topics_tsv"], a.seconds, f"denied flood r{r + 1} {name}")
                fres = fl.result(a.seconds + 30)
                tp[name].append(res["messages_per_second"])
                floods[name].append(fres["per_second"])
                log(f"denied flood round {r + 1} {name}: others {res['messages_per_second']:.0f} msg/s, "
                    f"flood {fres['per_second']:.0f} publishes/s{' ' + fres['error'] if fres['error'] else ''}")
                if not b.alive():
                    raise RuntimeError(f"broker {name} died: {b.log_tail()}")
    ratios = [c / n for n, c in zip(tp["noauth"], tp["cwauth"])]
    return [row("denied_flood", "others' msg/s while one client floods denied QoS-0 publishes",
                median(tp["noauth"]), median(tp["cwauth"]), median(ratios), ">=", THROUGHPUT_TARGET,
                {"rounds_noauth": tp["noauth"], "rounds_cwauth": tp["cwauth"], "round_ratios": ratios,
                 "flood_publishes_per_second_noauth": floods["noauth"],
                 "flood_publishes_per_second_cwauth": floods["cwauth"],
                 "flooder": f"{FLOOD_USER}: 2 roles x {FLOOD_PERMS_PER_ROLE} write/readWrite permissions, none matching "
                            f"{FLOOD_TOPIC_CWAUTH}; on no-auth it publishes to {FLOOD_TOPIC_NOAUTH} (no subscriber)",
                 "baseline_is": "no-auth broker under the same flood"})]


# --- 3. brute force --------------------------------------------------------------------------------


def hold_write_lock(db, start_at, seconds):
    """Another process's long write (a large `cwauth apply`): the write lock, held from start_at
    for `seconds`. Returns the thread; join it."""
    def hold():
        wait_until(start_at)
        conn = sqlite3.connect(db, timeout=10, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("UPDATE registry_window SET changed_at = changed_at WHERE id = 1")
            time.sleep(max(0.0, start_at + seconds - time.monotonic()))
            conn.execute("ROLLBACK")
        finally:
            conn.close()
    t = threading.Thread(target=hold, daemon=True)
    t.start()
    return t


def attack_run(run, broker, label, phases, bg, spray_users, hold_lock_db=None):
    """Probe + background load; baseline, then each (mode, seconds) attack phase with a 1 s gap.
    brute and registry come from 127.0.0.1; spray from SPRAY_SOURCES loopback addresses.
    hold_lock_db: the database whose write lock another process holds during each phase."""
    a = run.args
    base = a.seconds
    total = 0.5 + base + sum(s + 1.0 for _, s in phases) + 0.5
    pr = Probed(run, broker, total, bg, label)
    t_base = (pr.t_start + 0.5, pr.t_start + 0.5 + base)
    t = t_base[1]
    attacks = []
    for mode, secs in phases:
        w = Worker(run, "connect_flood", {"port": broker.port, "mode": mode, "user": VICTIM_USER, "users": spray_users,
                                          "conns": a.attack_conns, "seconds": secs, "max_count": a.attack_max,
                                          "sources": SPRAY_SOURCES if mode == "spray" else 1,
                                          "start_at": t}, f"{mode}-{label}").wait_ready()
        holder = hold_write_lock(hold_lock_db, t, secs) if hold_lock_db else None
        cpu0 = broker.cpu_seconds()
        res = w.result(secs + 40)
        if holder:
            holder.join(secs + 15)
        res["broker_cpu_seconds"] = broker.cpu_seconds() - cpu0
        res["window"] = (res["start"], res["end"])
        attacks.append(res)
        log(f"{label} {mode}: {res['attempts']} attempts, {res['answered']} answered "
            f"({res['answered_per_second']:.0f}/s), outcomes {res['outcomes']}")
        t = max(time.monotonic(), res["end"]) + 1.0
    probe, bgres = pr.results()
    stats = {"baseline": window_stats(probe["samples"], *t_base)}
    for res in attacks:
        stats[res["mode"]] = window_stats(probe["samples"], *res["window"])
    return stats, attacks, probe, bgres


def scenario_bruteforce(run, ctx):
    a = run.args
    spray = [f"scen-spray-{i:03d}" for i in range(SPRAY_USERS)]
    phases = [("brute", a.seconds), ("spray", a.seconds)]
    results = {}
    for kind in ("noauth", "passwd", "cwauth"):
        kw = {"db": ctx["main_db"], "plugin_opts": ctx.get("plugin_opts")} if kind == "cwauth" else \
             {"passwd": ctx["passwd_file"]} if kind == "passwd" else {}
        with Broker(run, f"brute-{kind}", kind, **kw) as b:
            stats, attacks, probe, bgres = attack_run(run, b, f"brute-{kind}", phases, ctx["bg"], spray)
            results[kind] = {"probe": stats, "attacks": attacks, "probe_lost": probe["lost"], "probe_error": probe["error"],
                             "bgload": bgres, "broker_alive": b.alive()}
            log(f"bruteforce {kind}: probe p99 baseline {stats['baseline']['p99_ms']} ms, brute "
                f"{stats['brute']['p99_ms']} ms, spray {stats['spray']['p99_ms']} ms")
    out = []
    for mode, what in (("brute", f"one user ({VICTIM_USER}), wrong passwords"),
                       ("spray", f"{SPRAY_USERS} users from {SPRAY_SOURCES} addresses, wrong passwords")):
        cw = results["cwauth"]
        details = {"attack": what, "attack_conns": a.attack_conns}
        for kind in ("cwauth", "noauth", "passwd"):
            r = results[kind]
            att = next(x for x in r["attacks"] if x["mode"] == mode)
            details[kind] = {"probe_p99_baseline_ms": r["probe"]["baseline"]["p99_ms"],
                             "probe_p99_attack_ms": r["probe"][mode]["p99_ms"],
                             "probe_p50_attack_ms": r["probe"][mode]["p50_ms"],
                             "probe_max_attack_ms": r["probe"][mode]["max_ms"],
                             "probe_lost": r["probe"][mode]["lost"],
                             "ratio": ratio(r["probe"][mode]["p99_ms"], r["probe"]["baseline"]["p99_ms"]),
                             "attempts": att["attempts"], "answered": att["answered"],
                             "answered_per_second": att["answered_per_second"], "outcomes": att["outcomes"],
                             "connack_ms_p50": att["connack_ms_p50"], "connack_ms_p99": att["connack_ms_p99"],
                             "broker_cpu_seconds": att["broker_cpu_seconds"]}
        details["baseline_is"] = "cwauth broker, probe p99 before the attack (noauth/passwd: same attack, for reference)"
        out.append(row(f"bruteforce_{mode}", f"probe p99 ms during CONNECT flood ({what}) / before",
                       cw["probe"]["baseline"]["p99_ms"], cw["probe"][mode]["p99_ms"],
                       ratio(cw["probe"][mode]["p99_ms"], cw["probe"]["baseline"]["p99_ms"]), "<=", LATENCY_TARGET, details))
    for mode in ("brute", "spray"):
        na, cw = results["noauth"]["probe"][mode]["p99_ms"], results["cwauth"]["probe"][mode]["p99_ms"]
        out.append(row(f"bruteforce_{mode}_vs_noauth", f"probe p99 ms during the same {mode} attack, cwauth / no-auth",
                       na, cw, ratio(cw, na), "<=", LATENCY_TARGET,
                       {"baseline_is": "no-auth broker under the same CONNECT flood (every CONNECT accepted)",
                        "passwd_p99_ms": results["passwd"]["probe"][mode]["p99_ms"]}))
    return out


# --- 4. registry flood -----------------------------------------------------------------------------


def scenario_registry_flood(run, ctx):
    a = run.args
    secs = max(a.seconds, 5)
    results = {}
    for kind in ("noauth", "cwauth"):
        kw = {"db": ctx["main_db"], "plugin_opts": ctx.get("plugin_opts")} if kind == "cwauth" else {}
        with Broker(run, f"registry-{kind}", kind, **kw) as b:
            if kind == "cwauth":
                run.cli(b.db, "registry", "unlock", "--minutes", "5")
                deadline = time.monotonic() + 5
                while b.count_in_log("registry: window open") == 0 and time.monotonic() < deadline:
                    time.sleep(0.05)
            stats, attacks, probe, bgres = attack_run(run, b, f"registry-{kind}", [("registry", secs)], ctx["bg"], [])
            res = {"probe": stats, "attack": attacks[0], "probe_lost": probe["lost"], "bgload": bgres}
            if kind == "cwauth":
                pending = json.loads(run.cli(b.db, "registry", "list", "--json"))
                rate = 20
                res["pending_rows"] = len(pending)
                res["pending_bound"] = min(1000, rate * (int(attacks[0]["seconds"]) + 2))
                res["broker_log_registry_lines"] = b.count_in_log("registry: new request")
                res["broker_log_dropped_summary"] = [l for l in b.log_text().splitlines() if "registry: dropped" in l][-3:]
                run.cli(b.db, "registry", "lock")
            results[kind] = res
            log(f"registry flood {kind}: probe p99 baseline {stats['baseline']['p99_ms']} ms, flood "
                f"{stats['registry']['p99_ms']} ms; {attacks[0]['answered']} answered "
                f"({attacks[0]['answered_per_second']:.0f}/s)" +
                (f"; pending rows {res['pending_rows']} (bound {res['pending_bound']})" if kind == "cwauth" else ""))
    cw = results["cwauth"]
    details = {
        "pending_rows": cw["pending_rows"], "pending_bound": cw["pending_bound"],
        "pending_within_bound": cw["pending_rows"] <= cw["pending_bound"],
        "attempts": cw["attack"]["attempts"], "answered": cw["attack"]["answered"],
        "answered_per_second": cw["attack"]["answered_per_second"], "outcomes": cw["attack"]["outcomes"],
        "connack_ms_p99": cw["attack"]["connack_ms_p99"], "broker_cpu_seconds": cw["attack"]["broker_cpu_seconds"],
        "log_dropped_summary": cw["broker_log_dropped_summary"],
        "probe_max_flood_ms": cw["probe"]["registry"]["max_ms"], "probe_lost": cw["probe"]["registry"]["lost"],
        "noauth": {"probe_p99_baseline_ms": results["noauth"]["probe"]["baseline"]["p99_ms"],
                   "probe_p99_flood_ms": results["noauth"]["probe"]["registry"]["p99_ms"],
                   "answered_per_second": results["noauth"]["attack"]["answered_per_second"]},
        "baseline_is": "cwauth broker with the window open, probe p99 before the flood",
    }
    na_p99 = results["noauth"]["probe"]["registry"]["p99_ms"]
    return [row("registry_flood", "probe p99 ms during unknown-user CONNECT flood (window open) / before",
                cw["probe"]["baseline"]["p99_ms"], cw["probe"]["registry"]["p99_ms"],
                ratio(cw["probe"]["registry"]["p99_ms"], cw["probe"]["baseline"]["p99_ms"]), "<=", LATENCY_TARGET,
                details),
            row("registry_flood_vs_noauth", "probe p99 ms during the same unknown-user flood, cwauth / no-auth",
                na_p99, cw["probe"]["registry"]["p99_ms"], ratio(cw["probe"]["registry"]["p99_ms"], na_p99), "<=",
                LATENCY_TARGET, {"baseline_is": "no-auth broker under the same CONNECT flood (every CONNECT accepted)"})]


def scenario_held_lock(run, ctx):
    """The window open and unknown devices arriving, while another process holds the database's
    write lock (a large apply): the probe during the lock vs the same flood without it."""
    a = run.args
    secs = max(a.seconds, 5)
    results = {}
    with Broker(run, "held-lock", "cwauth", db=ctx["main_db"], plugin_opts=ctx.get("plugin_opts")) as b:
        run.cli(b.db, "registry", "unlock", "--minutes", "5")
        deadline = time.monotonic() + 5
        while b.count_in_log("registry: window open") == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        for kind, hold in (("free", None), ("locked", b.db)):
            stats, attacks, probe, _ = attack_run(run, b, f"held-lock-{kind}", [("registry", secs)], ctx["bg"], [],
                                                  hold_lock_db=hold)
            results[kind] = {"probe": stats["registry"], "attack": attacks[0]}
            log(f"held lock {kind}: probe p99 {stats['registry']['p99_ms']} ms during the registry flood; "
                f"{attacks[0]['answered']} answered")
        waits = [l for l in b.log_text().splitlines() if "lock" in l and "registry" in l][-3:]
        run.cli(b.db, "registry", "lock")
    free, locked = results["free"]["probe"], results["locked"]["probe"]
    details = {"probe_free": free, "probe_locked": locked, "lock_seconds": secs,
               "answered_free": results["free"]["attack"]["answered"],
               "answered_locked": results["locked"]["attack"]["answered"], "broker_log": waits,
               "baseline_is": "cwauth broker, same unknown-user flood with the window open, no lock held"}
    return [row("held_lock", "probe p99 ms during a held write lock + registry flood / the flood alone",
                free["p99_ms"], locked["p99_ms"], ratio(locked["p99_ms"], free["p99_ms"]), "<=", LATENCY_TARGET,
                details)]


# --- 5. 10^6-rule rebuild under load ---------------------------------------------------------------


def scenario_rebuild(run, ctx):
    """Probe + background load on a broker with ~10^6 rules; `--reloads` changes, one per
    `--reload-period` slot (the probe's duration is fixed in advance)."""
    a = run.args
    pol = run.policy("r1m-1000x1000", 1000, 1000, 10000)
    bench_hash = policy_hash(pol)
    db, apply_s = run.database("r1m-1000x1000", [pol / "cwauth.json", friendly_doc(bench_hash)])
    meta = json.loads((pol / "meta.json").read_text())
    bg = bg_publishers(pol)
    changes = [("user", "add", "scen-rebuild-1", "--password", "rebuild-pw-1"),
               ("role", "grant", "scen-probe", "probe-extra/#", "--op", "write"),
               ("user", "add", "scen-rebuild-2", "--password", "rebuild-pw-2"),
               ("user", "rm", "scen-rebuild-1"),
               ("role", "revoke", "scen-probe", "probe-extra/#")][:a.reloads]
    base = a.seconds
    period = a.reload_period
    with Broker(run, "rebuild-cwauth", "cwauth", db=db, plugin_opts=ctx.get("plugin_opts")) as b:
        startup = b.startup_seconds
        rss_start = b.rss_kb()
        log(f"rebuild: broker with {meta.get('total_permissions')} rules listening after {startup:.1f} s, "
            f"RSS {rss_start / 1024:.0f} MB")
        total = 0.5 + base + len(changes) * period + 1.0
        pr = Probed(run, b, total, bg, "rebuild-cwauth")
        t_base = (pr.t_start + 0.5, pr.t_start + 0.5 + base)
        wait_until(t_base[1])
        rss = [b.rss_kb()]
        reloads, windows, builds, swaps = [], [], [], []
        for i, change in enumerate(changes):
            slot_end = t_base[1] + (i + 1) * period
            before = b.count_in_log("reloaded:")
            t0 = time.monotonic()
            run.cli(b.db, *change)
            t_cli = time.monotonic()
            while b.count_in_log("reloaded:") == before and time.monotonic() < slot_end - 1.0:
                time.sleep(0.01)
            t1 = time.monotonic()
            ok = b.count_in_log("reloaded:") > before
            windows.append((t0, min(t1 + 0.5, slot_end)))  # +0.5 s: the old snapshot is released after the swap
            wait_until(min(t1 + 1.5, slot_end - 0.1))
            rss.append(b.rss_kb())
            if ok:
                builds.append((t0, t1 - 0.3))
                swaps.append((t1 - 0.3, min(t1 + 0.5, slot_end)))
            reloads.append({"change": "cwauth " + " ".join(change), "cli_seconds": round(t_cli - t0, 3),
                            "seconds_to_reloaded": round(t1 - t0, 3) if ok else None, "rss_after_mb": round(rss[-1] / 1024, 1)})
            log(f"rebuild: `cwauth {' '.join(change)}` -> " + (f"reloaded after {t1 - t0:.2f} s" if ok else
                f"NOT reloaded within {t1 - t0:.1f} s") + f" (cli {t_cli - t0:.2f} s), RSS {rss[-1] / 1024:.0f} MB")
            wait_until(slot_end)
        probe, bgres = pr.results()
        alive = b.alive()
    quiet = [(w1, nxt0) for (_, w1), (nxt0, _) in zip(windows, windows[1:] + [(t_base[1] + len(changes) * period, 0)])]
    s_base = window_stats(probe["samples"], *t_base)
    s_rebuild = windows_stats(probe["samples"], windows)
    s_between = windows_stats(probe["samples"], quiet)
    s_build = windows_stats(probe["samples"], builds)
    s_swap = windows_stats(probe["samples"], swaps)
    details = {"rules": meta.get("total_permissions"), "users": meta.get("users"), "roles": meta.get("roles"),
               "apply_seconds_if_prepared_now": apply_s, "broker_startup_seconds": startup,
               "reloads": reloads, "rss_mb_before": round(rss[0] / 1024, 1), "rss_mb_at_start": round(rss_start / 1024, 1),
               "rss_mb_after_each": [r["rss_after_mb"] for r in reloads],
               "probe_baseline": s_base, "probe_during_rebuilds": s_rebuild, "probe_between_rebuilds": s_between,
               "probe_while_building": s_build, "probe_around_swap": s_swap,
               "split": "building = change .. 0.3 s before the 'reloaded:' line; swap = 0.3 s before .. 0.5 s after it",
               "probe_lost_total": probe["lost"], "bgload": bgres, "broker_alive": alive,
               "window": "from the CLI command's start to 0.5 s after the broker log's 'reloaded:' line",
               "baseline_is": "the same broker, probe p99 before the first change"}
    return [row("rebuild_1m", "probe p99 ms during 10^6-rule snapshot rebuilds / before (under background load)",
                s_base["p99_ms"], s_rebuild["p99_ms"], ratio(s_rebuild["p99_ms"], s_base["p99_ms"]), "<=", LATENCY_TARGET,
                details)]


# --- 6. cold reconnect storm -----------------------------------------------------------------------


def scenario_storm(run, ctx):
    a = run.args
    results = {}
    variants = [("passwd", "password_file (mosquitto_passwd, 101 iterations)", {"passwd": ctx["storm_passwd"]}),
                ("cwauth", "cwauth, hashes from `cwauth apply` (default cost)",
                 {"db": ctx["storm_db"], "plugin_opts": ctx.get("plugin_opts")}),
                ("cwauth_mphash", "cwauth, the mosquitto_passwd hashes (cwauth apply passwordHash)",
                 {"db": ctx["storm_db_mphash"], "plugin_opts": ctx.get("plugin_opts")})]
    users = storm_users(a.storm_clients)
    for key, label, kw in variants:
        kind = "passwd" if key == "passwd" else "cwauth"
        b = Broker(run, f"storm-{key}", kind, **kw)
        try:
            b.start()
            # right after the start: the probe connects (one hash), 1.5 s of baseline, then the storm
            pr = Probed(run, b, 1.5 + a.storm_timeout, None, f"storm-{key}")
            t_storm = pr.t_start + 1.5
            storm = Worker(run, "storm", {"port": b.port, "users": users, "inflight": a.storm_inflight,
                                          "timeout": a.storm_timeout, "start_at": t_storm}, f"storm-{key}").wait_ready()
            res = storm.result(a.storm_timeout + 60)
            wait_until(res["end"] + 1.0)
            pr.stop()
            probe, _ = pr.results()
            alive = b.alive()
        finally:
            b.stop()
        st = window_stats(probe["samples"], res["start"], res["end"])
        st_base = window_stats(probe["samples"], pr.t_start + 0.2, t_storm)
        results[key] = {"label": label, "storm": res, "probe_storm": st, "probe_before": st_base,
                        "probe_lost": probe["lost"], "probe_error": probe["error"], "broker_alive": alive}
        log(f"storm {key}: {res['connected']}/{res['clients']} connected in "
            f"{res['seconds_to_all_connected']} s; probe p99 {st['p99_ms']} ms (before {st_base['p99_ms']} ms), "
            f"outcomes {res['outcomes']}")
    pw, cw, mp = results["passwd"], results["cwauth"], results["cwauth_mphash"]

    def brief(r):
        return {"broker": r["label"], "connected": r["storm"]["connected"], "clients": r["storm"]["clients"],
                "seconds_to_all_connected": r["storm"]["seconds_to_all_connected"],
                "connect_ms_p50": r["storm"]["connect_ms_p50"], "connect_ms_p99": r["storm"]["connect_ms_p99"],
                "probe_p99_before_ms": r["probe_before"]["p99_ms"], "probe_p99_storm_ms": r["probe_storm"]["p99_ms"],
                "probe_max_storm_ms": r["probe_storm"]["max_ms"], "probe_lost": r["probe_storm"]["lost"],
                "outcomes": r["storm"]["outcomes"]}

    details = {"clients": a.storm_clients, "inflight_handshakes": a.storm_inflight,
               "passwd": brief(pw), "cwauth": brief(cw), "cwauth_mphash": brief(mp),
               "baseline_is": "password_file broker, same clients, same passwords"}

    def secs(r):
        return r["storm"]["seconds_to_all_connected"]
    return [row("storm_probe_p99", f"probe p99 ms during a cold storm of {a.storm_clients} CONNECTs, cwauth / password_file",
                pw["probe_storm"]["p99_ms"], cw["probe_storm"]["p99_ms"],
                ratio(cw["probe_storm"]["p99_ms"], pw["probe_storm"]["p99_ms"]), "<=", LATENCY_TARGET, details),
            row("storm_connect_time", f"seconds until all {a.storm_clients} clients are connected, cwauth / password_file",
                secs(pw), secs(cw), ratio(secs(cw), secs(pw)), "<=", LATENCY_TARGET,
                {"cwauth_mphash_seconds": secs(mp), "cwauth_mphash_ratio": ratio(secs(mp), secs(pw)),
                 "cwauth_mphash_probe_p99_ms": mp["probe_storm"]["p99_ms"],
                 "baseline_is": "password_file broker"})]


# ------------------------------------------------------------------------------------------------


def row(name, metric, baseline, value, r, op, target, details):
    met = None
    if r is not None:
        met = r >= target if op == ">=" else r <= target
    return {"name": name, "metric": metric, "baseline": baseline, "value": value, "ratio": r,
            "target": f"{op} {target}", "met": met, "details": details}


SCENARIOS = {"happy": scenario_happy, "denied_flood": scenario_denied_flood, "bruteforce": scenario_bruteforce,
             "registry_flood": scenario_registry_flood, "held_lock": scenario_held_lock, "rebuild": scenario_rebuild,
             "storm": scenario_storm}


def fmt(x, digits=None):
    if x is None:
        return "—"
    if isinstance(x, float):
        if digits is not None:
            return f"{x:.{digits}f}"
        if abs(x) >= 100:
            return f"{x:,.0f}"
        if abs(x) >= 10:
            return f"{x:.1f}"
        return f"{x:.2f}"
    return str(x)


def markdown(rows):
    out = ["| scenario | metric | baseline | under scenario | ratio | target | met |",
           "| --- | --- | --: | --: | --: | --- | --- |"]
    for r in rows:
        met = "—" if r["met"] is None else ("met" if r["met"] else "NOT met")
        if r.get("error"):
            out.append(f"| {r['name']} | ERROR: {r['error'][:200]} | | | | | |")
            continue
        out.append(f"| {r['name']} | {r['metric']} | {fmt(r['baseline'])} | {fmt(r['value'])} | "
                   f"{fmt(r['ratio'], 2) if r['ratio'] is not None else '—'} | {r['target']} | {met} |")
    return "\n".join(out)


def notes(rows):
    """A few lines per row with the numbers behind the ratio (all of them are in scenarios.json)."""
    out = []
    for r in rows:
        d = r.get("details") or {}
        n = r["name"]
        try:
            if r.get("error"):
                continue
            if n == "happy":
                out.append(f"- happy: rounds no-auth {', '.join(fmt(x) for x in d['rounds_noauth'])}; cwauth "
                           f"{', '.join(fmt(x) for x in d['rounds_cwauth'])} msg/s ({d['policy_rules']} rules).")
            elif n == "denied_flood":
                out.append(f"- denied_flood: the flooder got {', '.join(fmt(x) for x in d['flood_publishes_per_second_noauth'])}"
                           f" publishes/s through no-auth, {', '.join(fmt(x) for x in d['flood_publishes_per_second_cwauth'])}"
                           " through cwauth (all denied).")
            elif n.startswith("bruteforce_"):
                parts = []
                for k in ("cwauth", "passwd", "noauth"):
                    x = d[k]
                    parts.append(f"{k}: p99 {fmt(x['probe_p99_baseline_ms'])} -> {fmt(x['probe_p99_attack_ms'])} ms "
                                 f"(max {fmt(x['probe_max_attack_ms'])}), {x['answered']} CONNACKs "
                                 f"({fmt(x['answered_per_second'])}/s, codes {x['outcomes']}), broker CPU "
                                 f"{fmt(x['broker_cpu_seconds'])} s")
                out.append(f"- {n} ({d['attack']}, {d['attack_conns']} in flight): " + "; ".join(parts) + ".")
            elif n == "registry_flood":
                out.append(f"- registry_flood: {d['answered']} CONNACKs ({fmt(d['answered_per_second'])}/s); pending rows "
                           f"{d['pending_rows']} (bound {d['pending_bound']}: {'within' if d['pending_within_bound'] else 'EXCEEDED'}); "
                           f"probe max {fmt(d['probe_max_flood_ms'])} ms; no-auth under the same flood: p99 "
                           f"{fmt(d['noauth']['probe_p99_baseline_ms'])} -> {fmt(d['noauth']['probe_p99_flood_ms'])} ms.")
            elif n == "held_lock":
                out.append(f"- held_lock: write lock held {d['lock_seconds']} s by another process during an unknown-user "
                           f"flood; probe p99 {fmt(d['probe_free']['p99_ms'])} ms without the lock, "
                           f"{fmt(d['probe_locked']['p99_ms'])} ms with it (max {fmt(d['probe_locked']['max_ms'])}); "
                           f"{d['answered_free']} / {d['answered_locked']} CONNACKs.")
            elif n == "rebuild_1m":
                rl = "; ".join(f"`{x['change']}` reloaded after {fmt(x['seconds_to_reloaded'])} s, RSS {fmt(x['rss_after_mb'])} MB"
                               for x in d["reloads"])
                out.append(f"- rebuild_1m: {d['rules']} rules, {d['users']} users; broker listening after "
                           f"{fmt(d['broker_startup_seconds'])} s, RSS {fmt(d['rss_mb_before'])} MB before; {rl}. Probe p99 "
                           f"while building {fmt(d['probe_while_building']['p99_ms'])} ms, around the swap "
                           f"{fmt(d['probe_around_swap']['p99_ms'])} ms (max {fmt(d['probe_around_swap']['max_ms'])}), "
                           f"between rebuilds {fmt(d['probe_between_rebuilds']['p99_ms'])} ms.")
            elif n == "storm_probe_p99":
                parts = []
                for k in ("passwd", "cwauth", "cwauth_mphash"):
                    x = d[k]
                    parts.append(f"{x['broker']}: {x['connected']}/{x['clients']} in {fmt(x['seconds_to_all_connected'])} s, "
                                 f"probe p99 {fmt(x['probe_p99_storm_ms'])} ms (before {fmt(x['probe_p99_before_ms'])})")
                out.append(f"- storm ({d['clients']} clients, {d['inflight_handshakes']} handshakes in flight): "
                           + "; ".join(parts) + ".")
        except (KeyError, TypeError):
            continue
    return "\n".join(out)


def write_out(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)  # survives someone removing the folder mid-run
    path.write_text(text)


def build_identity(run):
    """Of the private copies the run uses (the build folder may change under a running benchmark)."""
    info = {}
    for key, path, copy in (("plugin", run.args.plugin, run.plugin), ("cwauth", run.args.cwauth, run.cwauth)):
        st = os.stat(path)
        info[key] = {"path": str(path), "sha256": file_sha(copy),
                     "mtime": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(st.st_mtime))}
    return info


def prepare(run, needed):
    """The main policy and databases the selected scenarios need."""
    ctx = {}
    a = run.args
    if needed & {"happy", "denied_flood", "bruteforce", "registry_flood", "held_lock", "storm"}:
        pol = Path(a.policy_dir).resolve() if a.policy_dir else run.policy("r100k", 100, 1000, 200)
        bench_hash = policy_hash(pol)
        ctx["policy_dir"] = pol
        meta_path = pol / "meta.json"
        ctx["rules"] = json.loads(meta_path.read_text()).get("total_permissions") if meta_path.exists() else None
        topics = run.tmp / "topics.tsv"
        with open(topics, "w") as f:
            for u, ts in allowed_writes(pol).items():
                for t in ts:
                    f.write(f"{u}\t{t}\n")
        ctx["topics_tsv"] = topics
        ctx["bg"] = bg_publishers(pol)
        if needed & {"happy", "denied_flood", "bruteforce", "registry_flood", "held_lock"}:
            ctx["main_db"], apply_s = run.database(f"main-{sha(pol)}", [pol / "cwauth.json", friendly_doc(bench_hash),
                                                                       attack_doc()])
            if apply_s is not None:
                log(f"main database ready (apply {apply_s:.1f} s)")
        entries = [(PROBE_USER, BENCH_PASS), (SUB_USER, BENCH_PASS), (FLOOD_USER, BENCH_PASS),
                   (VICTIM_USER, "victim-real-password")]
        entries += [(f"scen-spray-{i:03d}", f"spray-real-{i:03d}") for i in range(SPRAY_USERS)]
        entries += [(u, BENCH_PASS) for u, _, _ in ctx["bg"]]
        ctx["passwd_file"] = password_file(run, entries)
        if "storm" in needed:
            users = storm_users(a.storm_clients)
            ctx["storm_passwd"] = password_file(run, [(PROBE_USER, BENCH_PASS)] + users)
            hashes = dict(line.split(":", 1) for line in ctx["storm_passwd"].read_text().split())
            probe_role = friendly_doc(bench_hash)
            probe_role["users"] = [u for u in probe_role["users"] if u["username"] == PROBE_USER]
            ctx["storm_db"], s1 = run.database(f"storm-{a.storm_clients}", [probe_role, {
                "roles": [], "users": [{"username": u, "password": p, "roles": []} for u, p in users]}])
            ctx["storm_db_mphash"], s2 = run.database(f"storm-mphash-{a.storm_clients}", [probe_role, {
                "roles": [], "users": [{"username": u, "passwordHash": hashes[u], "roles": []} for u, _ in users]}])
    if not LOADGEN.exists() and needed & {"happy", "denied_flood"}:
        log("building loadgen")
        subprocess.run(["make", "-s", "-C", str(LOADGEN_DIR), "loadgen"], check=True, capture_output=True, timeout=120)
    return ctx


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "--worker":
        worker_main(*sys.argv[2:5])
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cwauth", default=str(ROOT / ".build/release/cwauth"), help="the cwauth CLI")
    ap.add_argument("--plugin", default=str(ROOT / ".build/release/libcwauth_mosquitto.so"), help="the broker plugin")
    ap.add_argument("--out", default=str(HERE / "out"),
                    help="output folder: scenarios.json, machine.json, logs/ (default Benchmarks/scenarios/out, git-ignored)")
    ap.add_argument("--policy-dir", help="gen_policy output (cwauth.json, checks.tsv) for the main database "
                                         "(default: 100 roles x 1000 permissions, 200 users = 10^5 rules)")
    ap.add_argument("--seconds", type=float, default=5.0, help="measured seconds of each phase (default 5)")
    ap.add_argument("--only", help="comma-separated scenarios: " + ",".join(SCENARIOS))
    ap.add_argument("--rounds", type=int, default=5, help="loadgen rounds in happy and denied_flood (default 5)")
    ap.add_argument("--probe-rate", type=float, default=200.0, help="probe messages per second (default 200)")
    ap.add_argument("--bg-rate", type=float, default=2000.0, help="steady background msg/s in the latency scenarios "
                                                                "(10 publishers -> 1 subscriber; 0 = none; default 2000)")
    ap.add_argument("--attack-conns", type=int, default=8, help="CONNECT attempts in flight (default 8)")
    ap.add_argument("--attack-max", type=int, default=200_000, help="max CONNECT attempts per attack phase")
    ap.add_argument("--reloads", type=int, default=3, help="changes (snapshot rebuilds) in the rebuild scenario (max 5)")
    ap.add_argument("--reload-period", type=float, default=12.0, help="seconds per rebuild slot (default 12)")
    ap.add_argument("--storm-clients", type=int, default=2000, help="clients in the reconnect storm (default 2000)")
    ap.add_argument("--storm-inflight", type=int, default=100, help="storm handshakes in flight at once (default 100)")
    ap.add_argument("--storm-timeout", type=float, default=60.0, help="storm bound in seconds (default 60)")
    ap.add_argument("--plugin-opt", action="append", default=[], metavar="KEY=VALUE",
                    help="extra plugin_opt_KEY VALUE for every cwauth broker (repeatable)")
    a = ap.parse_args()
    selected = list(SCENARIOS) if not a.only else [s.strip() for s in a.only.split(",") if s.strip()]
    unknown = [s for s in selected if s not in SCENARIOS]
    if unknown:
        ap.error(f"unknown scenario(s) {unknown}; known: {', '.join(SCENARIOS)}")
    for path in (a.cwauth, a.plugin):
        if not Path(path).exists():
            ap.error(f"{path} does not exist")
    if not shutil.which("mosquitto"):
        ap.error("mosquitto is not installed")

    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, on_signal)

    run = Run(a)
    identity = build_identity(run)
    load_start = os.getloadavg()
    rows = []
    started = time.monotonic()
    try:
        ctx = prepare(run, set(selected))
        ctx["plugin_opts"] = dict(kv.split("=", 1) for kv in a.plugin_opt)
        for name in selected:
            log(f"--- scenario {name}")
            t0 = time.monotonic()
            try:
                got = SCENARIOS[name](run, ctx)
            except KeyboardInterrupt:
                raise
            except Exception as exc:  # noqa: BLE001 - one failed scenario must not hide the others
                log(f"scenario {name} FAILED: {type(exc).__name__}: {exc}")
                got = [{"name": name, "metric": None, "baseline": None, "value": None, "ratio": None, "target": None,
                        "met": None, "error": f"{type(exc).__name__}: {exc}", "details": {}}]
            finally:
                stop_all()
            for r in got:
                r["seconds"] = round(time.monotonic() - t0, 1)
            rows += got
            write_out(run.out / "scenarios.json", json.dumps(rows, indent=2, default=str))
    finally:
        stop_all()
        shutil.rmtree(run.tmp, ignore_errors=True)
    machine = {"nproc": os.cpu_count(), "mosquitto": subprocess.run(["mosquitto", "-h"], capture_output=True,
                                                                    text=True).stdout.splitlines()[:1],
               "seconds_total": round(time.monotonic() - started, 1), "build": identity,
               "loadavg_start": load_start, "loadavg_end": os.getloadavg(),
               "seconds": a.seconds, "probe_rate": a.probe_rate, "bg_rate": a.bg_rate, "attack_conns": a.attack_conns,
               "storm_clients": a.storm_clients, "plugin_opts": a.plugin_opt}
    write_out(run.out / "scenarios.json", json.dumps(rows, indent=2, default=str))
    write_out(run.out / "machine.json", json.dumps(machine, indent=2))
    print(markdown(rows))
    print()
    print(notes(rows))
    print(f"\nplugin {identity['plugin']['sha256']} ({identity['plugin']['mtime']}), "
          f"{machine['nproc']} cores, {machine['seconds_total']:.0f} s, load average "
          f"{load_start[0]:.2f} at the start, {machine['loadavg_end'][0]:.2f} at the end")
    log(f"done in {time.monotonic() - started:.0f} s; {run.out / 'scenarios.json'}")
    return 0 if not any(r.get("error") for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
