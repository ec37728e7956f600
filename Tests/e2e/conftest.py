"""Fixtures for end-to-end tests: the built `cwauth` CLI, fresh databases, and a real Mosquitto
with the cwauth plugin on a free loopback port."""
import atexit
import base64
import json
import os
import pwd
import queue
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CWAUTH = os.environ.get("CWAUTH_BIN", str(ROOT / ".build/release/cwauth"))
PLUGIN = os.environ.get("CWAUTH_PLUGIN", str(ROOT / ".build/release/libcwauth_mosquitto.so"))
ARTIFACTS = ROOT / "artifacts"


def broker_user():
    """Started as root, Mosquitto drops to the `mosquitto` user before loading plugins: the database
    and its directory must belong to that user. Started as anyone else, it stays that user."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("mosquitto")
    except KeyError:
        return None


_plugin_copy = None


def broker_plugin():
    """The plugin as the broker can load it. Mosquitto loads plugins after it has become its own
    user, who may not be able to enter the build folder (a clone under a 0700 folder, such as
    `mktemp -d` makes, or /root): then the tests load a copy from a folder anyone can enter."""
    global _plugin_copy
    if broker_user() is None:
        return PLUGIN
    if _plugin_copy is None:
        folder = Path(tempfile.mkdtemp(prefix="cwauth-plugin-"))
        folder.chmod(0o755)
        atexit.register(shutil.rmtree, folder, True)
        _plugin_copy = folder / Path(PLUGIN).name
        shutil.copy(PLUGIN, _plugin_copy)
        _plugin_copy.chmod(0o755)
    return _plugin_copy


class CLI:
    def __init__(self, db):
        self.db = str(db)

    def run(self, *args, input=None, check=False, env=None):
        """Runs `cwauth --db DB args…`; returns CompletedProcess with text stdout/stderr. Standard input is
        `input`, else empty: never the terminal pytest may run on, where cwauth would ask for a password."""
        proc = subprocess.run([CWAUTH, "--db", self.db, *map(str, args)], input=input if input is not None else "",
                              capture_output=True, text=True, timeout=60, env=env)
        if check and proc.returncode != 0:
            raise AssertionError(f"cwauth {' '.join(map(str, args))} failed ({proc.returncode}): {proc.stderr}")
        return proc

    def __call__(self, *args, **kw):
        return self.run(*args, check=True, **kw)


@pytest.fixture
def workdir():
    path = Path(tempfile.mkdtemp(prefix="cwauth-test-"))
    user = broker_user()
    if user:
        os.chown(path, user.pw_uid, user.pw_gid)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def cli(workdir):
    """A CLI bound to a freshly initialised database owned by the broker's user."""
    c = CLI(workdir / "cwauth.db")
    c("init")
    user = broker_user()
    if user:
        os.chown(c.db, user.pw_uid, user.pw_gid)
    return c


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Daemon:
    """A started process (mosquitto, cwauth serve) whose output goes to `log_path`."""
    proc = None
    log = None

    def log_text(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        if self.log:
            self.log.close()


def started_daemons(request, build, kind):
    """Body of a factory fixture: yields `make(...)`, which builds a Daemon and starts it; at the end
    of the test stops them all, keeping their logs under artifacts/ when the test failed."""
    made = []

    def make(*args, **kwargs):
        daemon = build(*args, **kwargs)
        made.append(daemon)
        return daemon.start()

    yield make
    failed = request.node.rep_call.failed if hasattr(request.node, "rep_call") else False
    for daemon in made:
        daemon.stop()
        if failed:
            ARTIFACTS.mkdir(exist_ok=True)
            shutil.copy(daemon.log_path, ARTIFACTS / f"{request.node.name}-{kind}.log")


class Broker(Daemon):
    def __init__(self, workdir, db, extra_options=""):
        self.port = free_port()
        self.log_path = workdir / "mosquitto.log"
        self.conf = workdir / "mosquitto.conf"
        self.conf.write_text(
            f"plugin {broker_plugin()}\n"
            f"plugin_opt_database {db}\n"
            f"{extra_options}"
            "log_dest stderr\nlog_type all\n"
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous false\n")
        self.proc = None

    def start(self):
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(["mosquitto", "-c", str(self.conf)], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"mosquitto exited with {self.proc.returncode}:\n{self.log_text()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise AssertionError("mosquitto did not start listening:\n" + self.log_text())



@pytest.fixture
def broker_factory(workdir, request):
    yield from started_daemons(request, lambda db, extra_options="": Broker(workdir, db, extra_options), "mosquitto")


@pytest.fixture
def broker(cli, broker_factory):
    return broker_factory(cli.db)


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


# --- `cwauth serve` -------------------------------------------------------------------------------

ADMIN = ("admin", "admin-pw-1")
# Loopback only: never route test requests through a proxy from the environment.
HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Reply:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.text = body.decode("utf-8", errors="replace")
        try:
            self.json = json.loads(self.text) if self.text else None
        except ValueError:
            self.json = None

    def __repr__(self):
        return f"<Reply {self.status} {self.text[:200]}>"


class Server(Daemon):
    """`cwauth serve --listen 127.0.0.1:0` on a database; `url` is known once it printed its listening line.
    `args` are more options for `serve`; `ca` (a PEM file) is the certificate HTTPS requests trust."""

    def __init__(self, workdir, db, admin=ADMIN, args=(), listen="127.0.0.1:0", ca=None):
        self.db = str(db)
        self.admin = admin
        self.args = [str(a) for a in args]
        self.listen = listen
        self.log_path = workdir / "serve.log"
        self.proc = None
        self.url = None
        self.port = None
        self.opener = HTTP
        if ca is not None:
            context = ssl.create_default_context(cafile=str(ca))
            self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                                      urllib.request.HTTPSHandler(context=context))

    def argv(self):
        return [CWAUTH, "--db", self.db, "serve", "--listen", self.listen, *self.args]

    def popen_options(self):
        """More keyword arguments for Popen (a subclass may run it as another user)."""
        return {}

    def start(self, timeout=20):
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(self.argv(), stdout=subprocess.PIPE, stderr=self.log, text=True, **self.popen_options())
        found = queue.Queue()

        def read_stdout():
            for line in self.proc.stdout:
                match = re.match(r"cwauth serve: listening on (https?://[^\s]+):(\d+)$", line.strip())
                if match:
                    found.put((match.group(1), int(match.group(2))))
        threading.Thread(target=read_stdout, daemon=True).start()
        try:
            base, self.port = found.get(timeout=timeout)
        except queue.Empty:
            self.stop()
            raise AssertionError("cwauth serve did not print its listening line:\n" + self.log_text())
        self.url = f"{base}:{self.port}"
        return self

    def request(self, method, path, body=None, auth=None, headers=None, timeout=10, raw=None):
        """One HTTP request; `auth` is (user, password) for Basic or a string bearer token; `raw` (bytes) is sent
        as the body instead of `body` as JSON. Never raises on 4xx/5xx."""
        data = raw if raw is not None else None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if isinstance(auth, tuple):
            req.add_header("Authorization", "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode())
        elif isinstance(auth, str):
            req.add_header("Authorization", "Bearer " + auth)
        for name, value in (headers or {}).items():
            req.add_header(name, value)
        try:
            with self.opener.open(req, timeout=timeout) as resp:
                return Reply(resp.status, dict(resp.headers), resp.read())
        except urllib.error.HTTPError as err:
            return Reply(err.code, dict(err.headers), err.read())

    def as_admin(self, method, path, body=None):
        return self.request(method, path, body, auth=self.admin)



@pytest.fixture
def serve_factory(workdir, request):
    yield from started_daemons(request, lambda db, admin=ADMIN, **kw: Server(workdir, db, admin, **kw), "serve")


@pytest.fixture
def serve(cli, serve_factory):
    """`cwauth serve` on the `cli` database, with admin ADMIN (role admin: http /api/# readWrite)."""
    cli("init", "--admin", ADMIN[0], input=ADMIN[1] + "\n")
    return serve_factory(cli.db)
