"""Issue 7: `cwauth serve` over real HTTP — the explicit registration flow (423 → 202 → 202 → allow via the
API → 201), then the same device connects to a real Mosquitto with the plugin and, once an admin gives it a
role through the API, publishes."""
import json
import time

import pytest

from mqtt_client import Client, connect_result

DEVICE = {"username": "press-7", "password": "press-7-secret", "roles": ["press"], "context": "hall 3"}
MONITOR = ("monitor", "monitor-pw")


@pytest.fixture
def site(cli):
    cli("role", "add", "watcher")
    cli("role", "grant", "watcher", "#", "--op", "read")
    cli("role", "add", "press")
    cli("role", "grant", "press", "presses/%u/#", "--op", "write")
    cli("user", "add", MONITOR[0], "--password", MONITOR[1], "--role", "watcher")
    return cli


def register(server, body=DEVICE):
    return server.request("POST", "/api/client-registry/register", body)


def test_explicit_flow_then_mqtt(site, broker, serve):
    locked = register(serve)
    assert locked.status == 423, locked
    assert "locked" in locked.json["error"]

    unlocked = serve.as_admin("POST", "/api/client-registry/unlock", {"minutes": 5})
    assert unlocked.status == 200 and unlocked.json["open"] is True, unlocked

    first = register(serve)
    assert first.status == 202 and first.json == {"status": "pending"}, first
    time.sleep(0.6)  # the registration door allows one recorded attempt per username every 0.5 s
    again = register(serve)
    assert again.status == 202 and again.json == {"status": "pending"}, again

    status = serve.as_admin("GET", "/api/client-registry")
    [request] = status.json["pending"]
    assert request["username"] == "press-7" and request["source"] == "http"
    assert request["requestedRoles"] == ["press"] and request["requestedContext"] == "hall 3"
    assert request["attempts"] == 2 and request["conflict"] is False
    # The CLI sees the same request, with what the device asked for.
    listed = site("registry", "list").stdout
    assert "press-7" in listed and "roles: press" in listed and "context: hall 3" in listed

    # Pending is not a user: the broker still refuses it.
    assert not connect_result(broker.port, DEVICE["username"], DEVICE["password"])

    allowed = serve.as_admin("POST", "/api/client-registry/pending/press-7/allow", {})
    assert allowed.status == 201 and allowed.json["origin"] == "registry" and allowed.json["roles"] == [], allowed
    granted = register(serve)
    assert granted.status == 201 and granted.json == {"username": "press-7", "roles": []}, granted

    time.sleep(1.2)  # the plugin picks the change up on its next tick
    monitor = Client(broker.port, *MONITOR)
    assert monitor.subscribe("#")
    device = Client(broker.port, DEVICE["username"], DEVICE["password"], client_id="press-7-client")
    device.publish("presses/press-7/strokes", "before-role")
    assert monitor.received(0.7) == [], "no role yet: nothing it publishes may be delivered"

    assigned = serve.as_admin("PUT", "/api/users/press-7/roles/press")
    assert assigned.status == 200 and assigned.json["roles"] == ["press"], assigned
    assert not device.disconnected.wait(1.2), "gaining a role must not disconnect the device"
    device.publish("presses/press-7/strokes", "42")
    assert monitor.expect("presses/press-7/strokes", "42")
    device.close()
    monitor.close()

    assert register(serve).json == {"username": "press-7", "roles": ["press"]}
    audit = json.loads(site("audit", "--json", "--limit", "50").stdout)
    actions = {(e["actor"], e["action"]) for e in audit}
    assert ("http:admin", "registry.unlock") in actions
    assert ("http:admin", "registry.allow") in actions
    assert ("http:admin", "user.assign") in actions
    assert ("http", "registry.request") in actions


def test_admin_api_over_http(serve):
    assert serve.request("GET", "/api/users").status == 401
    login = serve.request("POST", "/api/auth/login", {"username": serve.admin[0], "password": serve.admin[1]})
    assert login.status == 200, login
    token = login.json["token"]
    created = serve.request("POST", "/api/users", {"username": "web-user", "password": "web-user-pw"}, auth=token)
    assert created.status == 201 and created.json["username"] == "web-user", created
    assert serve.request("POST", "/api/users", {"username": "web-user", "password": "web-user-pw"}, auth=token).status == 409
    assert serve.request("GET", "/api/users/web-user", auth=("web-user", "web-user-pw")).status == 403
    assert serve.request("POST", "/api/auth/logout", auth=token).status == 204
    assert serve.request("GET", "/api/users", auth=token).status == 401

    session = serve.request("POST", "/api/auth/login",
                            {"username": serve.admin[0], "password": serve.admin[1], "session": True})
    cookie = session.headers["Set-Cookie"].split(";")[0]
    assert "HttpOnly" in session.headers["Set-Cookie"] and "SameSite=Strict" in session.headers["Set-Cookie"]
    no_csrf = serve.request("POST", "/api/client-registry/lock", headers={"Cookie": cookie})
    assert no_csrf.status == 403 and no_csrf.json == {"error": "missing or invalid CSRF token"}
    with_csrf = serve.request("POST", "/api/client-registry/lock",
                              headers={"Cookie": cookie, "X-CSRF-Token": session.json["csrfToken"]})
    assert with_csrf.status == 200, with_csrf

    spec = serve.request("GET", "/api/openapi.json")
    assert spec.status == 200 and spec.json["openapi"].startswith("3.0")
    assert serve.alive()


def test_serve_refuses_a_missing_database(workdir):
    import subprocess
    from conftest import CWAUTH
    proc = subprocess.run([CWAUTH, "--db", str(workdir / "none.db"), "serve", "--listen", "127.0.0.1:0"],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 1
    assert proc.stderr.strip().startswith("cwauth: error: no database at")
    bad = subprocess.run([CWAUTH, "--db", str(workdir / "none.db"), "serve", "--listen", "nowhere"],
                         capture_output=True, text=True, timeout=30)
    assert bad.returncode == 1 and "--listen" in bad.stderr


def test_init_admin_reads_the_password_from_stdin(cli):
    made = cli("init", "--admin", "ops", input="ops-password\n")
    assert "created admin ops" in made.stdout
    user = json.loads(cli("user", "show", "ops", "--json").stdout)["user"]
    assert user["roles"] == ["admin"]
    role = json.loads(cli("role", "show", "admin", "--json").stdout)
    assert {"resource": "/api/#", "operation": "readWrite", "context": "http"} in role["permissions"]
    again = cli.run("init", "--admin", "ops", input="ops-password\n")
    assert again.returncode == 1 and "already exists" in again.stderr
    empty = cli.run("init", "--admin", "ops2", input="")
    assert empty.returncode == 1 and "no password on stdin" in empty.stderr
    short = cli.run("init", "--admin", "ops3", input="abc\n")
    assert short.returncode == 1 and "at least 5 characters" in short.stderr
