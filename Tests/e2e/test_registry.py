"""The client registry's implicit flow through a real broker — unknown devices become
pending while the window is open, `cwauth allow` lets them in with exactly the roles given."""
import json
import re
import threading
import time

import pytest

from mqtt_client import Client, connect_result, raw_connect

MONITOR = ("monitor", "monitor-pw")


@pytest.fixture
def site(cli):
    cli("role", "add", "watcher")
    cli("role", "grant", "watcher", "#", "--op", "read")
    cli("role", "add", "sensor")
    cli("role", "grant", "sensor", "sensors/%u/#", "--op", "write")
    cli("role", "grant", "sensor", "probe/#", "--op", "readWrite")
    cli("user", "add", *MONITOR[:1], "--password", MONITOR[1], "--role", "watcher")
    return cli


def pending(cli):
    return {p["username"]: p for p in json.loads(cli("registry", "list", "--json").stdout)}


def wait_for(predicate, timeout=3.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    return predicate()


def test_window_closed_records_nothing(site, broker):
    assert not connect_result(broker.port, "newdev", "pw-newdev-1")
    time.sleep(0.5)
    assert pending(site) == {}
    assert json.loads(site("registry", "status", "--json").stdout)["open"] is False


def test_full_implicit_flow_with_conflict_and_allow(site, broker):
    site("registry", "unlock", "--minutes", "5")
    time.sleep(1.0)
    assert not connect_result(broker.port, "newdev", "pw-newdev-1", client_id="newdev-client")
    request = wait_for(lambda: pending(site).get("newdev"))
    assert request["clientId"] == "newdev-client"
    assert request["address"] == "127.0.0.1"
    assert request["attempts"] == 1 and request["conflict"] is False
    assert set(request) >= {"username", "clientId", "address", "firstSeen", "lastSeen", "attempts", "conflict"}

    time.sleep(0.6)  # past the per-username rate limit
    assert not connect_result(broker.port, "newdev", "pw-newdev-1")
    assert wait_for(lambda: pending(site)["newdev"]["attempts"] == 2)

    time.sleep(0.6)
    assert not connect_result(broker.port, "newdev", "impostor-pw-2")
    assert wait_for(lambda: pending(site)["newdev"]["conflict"] is True)
    assert "CONFLICT" in site("registry", "list").stdout
    assert wait_for(lambda: "CONFLICT for newdev" in broker.log_text())

    refused = site.run("allow", "newdev")
    assert refused.returncode == 1 and "--force" in refused.stderr
    assert "newdev" in pending(site)
    site("allow", "newdev", "--force")
    assert "newdev" not in pending(site)
    user = json.loads(site("user", "show", "newdev", "--json").stdout)["user"]
    assert user["origin"] == "registry" and user["roles"] == []

    time.sleep(1.0)
    assert connect_result(broker.port, "newdev", "pw-newdev-1"), "the first password must win"
    assert not connect_result(broker.port, "newdev", "impostor-pw-2")

    # No roles: it may connect, but nothing it publishes reaches anyone.
    monitor = Client(broker.port, *MONITOR)
    assert monitor.subscribe("#")
    dev = Client(broker.port, "newdev", "pw-newdev-1")
    for topic in ("sensors/newdev/t", "probe/x", "anything"):
        dev.publish(topic, "no-role")
    assert not dev.subscribe("probe/#")
    assert monitor.received(0.7) == []

    site("user", "assign", "newdev", "sensor")
    assert not dev.disconnected.wait(1.0), "gaining a role must not disconnect the device"
    dev.publish("sensors/newdev/t", "with-role")   # same connection, new permission
    assert monitor.expect("sensors/newdev/t", "with-role")
    dev.close(); monitor.close()
    audit = site("audit", "--json").stdout
    for action in ("registry.request", "registry.conflict", "registry.allow"):
        assert action in audit


def test_allow_without_conflict_needs_no_force_and_grants_roles(site, broker):
    site("registry", "unlock")
    time.sleep(1.0)
    assert not connect_result(broker.port, "calm-device", "calm-pass-1")
    assert wait_for(lambda: "calm-device" in pending(site))
    site("allow", "calm-device", "--role", "sensor")
    time.sleep(1.0)
    monitor = Client(broker.port, *MONITOR)
    assert monitor.subscribe("#")
    dev = Client(broker.port, "calm-device", "calm-pass-1")
    dev.publish("sensors/calm-device/temp", "19")
    assert monitor.expect("sensors/calm-device/temp", "19")
    dev.close(); monitor.close()


def test_deny_and_block(site, broker):
    site("registry", "unlock")
    time.sleep(1.0)
    assert not connect_result(broker.port, "rogue-dev", "rogue-pass")
    assert wait_for(lambda: "rogue-dev" in pending(site))
    site("deny", "rogue-dev", "--block")
    assert "rogue-dev" not in pending(site)
    time.sleep(0.6)
    assert not connect_result(broker.port, "rogue-dev", "rogue-pass")
    time.sleep(0.5)
    assert "rogue-dev" not in pending(site)


def test_short_credentials_are_refused_and_not_recorded(site, broker):
    site("registry", "unlock")
    time.sleep(1.0)
    assert not connect_result(broker.port, "ab", "long-enough")
    assert not connect_result(broker.port, "okname", "pw")
    time.sleep(0.5)
    assert pending(site) == {}


def test_lock_and_expiry_stop_recording(site, broker):
    site("registry", "unlock")
    site("registry", "lock")
    time.sleep(1.0)
    assert not connect_result(broker.port, "after-lock", "after-lock-pw")
    site("registry", "unlock", "--seconds", "2")
    time.sleep(3.0)
    assert json.loads(site("registry", "status", "--json").stdout)["open"] is False
    log = broker.log_text()
    assert "registry: window open" in log and log.rindex("registry: window closed") > log.index("registry: window open")
    assert not connect_result(broker.port, "after-expiry", "after-expiry-pw")
    time.sleep(0.5)
    assert pending(site) == {}


def test_flood_is_capped_and_broker_stays_responsive(site, broker_factory):
    # Below the registry rate's first burst (a quarter second of 100/s): the table fills however
    # quickly the flood is over.
    cap = 20
    broker = broker_factory(site.db, f"plugin_opt_registry_max_pending {cap}\nplugin_opt_registry_rate 100\n")
    site("user", "add", "prober", "--password", "prober-pw", "--role", "sensor")
    users_before = site("user", "list", "--json").stdout
    roles_before = site("role", "list", "--json").stdout
    site("registry", "unlock")
    time.sleep(1.0)

    sub = Client(broker.port, "prober", "prober-pw", client_id="prober-sub")
    assert sub.subscribe("probe/rtt")
    pub = Client(broker.port, "prober", "prober-pw", client_id="prober-pub")
    stop = threading.Event()
    round_trips = []

    def probe():
        n = 0
        while not stop.is_set():
            n += 1
            start = time.time()
            pub.publish("probe/rtt", str(n))
            ok = sub.expect("probe/rtt", str(n), timeout=5.0)
            round_trips.append((ok, time.time() - start))
            time.sleep(0.05)

    prober = threading.Thread(target=probe)
    prober.start()
    codes = []

    def flood(offset):
        for i in range(offset, 5000, 4):
            codes.append(raw_connect(broker.port, f"flood-{i:05d}", "flood-password", f"flood-{i}"))

    workers = [threading.Thread(target=flood, args=(k,)) for k in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    stop.set()
    prober.join()
    sub.close(); pub.close()

    assert len(codes) == 5000 and all(code == 5 for code in codes), "every unknown CONNECT must be refused"
    assert broker.alive()
    assert len(round_trips) > 5 and all(ok for ok, _ in round_trips), "known user's round trip failed during the flood"
    rows = pending(site)
    assert 0 < len(rows) <= cap
    assert site("user", "list", "--json").stdout == users_before
    assert site("role", "list", "--json").stdout == roles_before
    slowest = max(t for _, t in round_trips)
    print(f"flood: {len(rows)} pending rows, {len(round_trips)} round trips, slowest {slowest * 1000:.0f} ms")
    assert wait_for(lambda: "pending table full" in broker.log_text())


def test_device_knocking_right_after_unlock_is_recorded(site, broker_factory):
    # A long probe interval makes the race wide: the broker's snapshot learns of the window only
    # after a second, but a device that connects as soon as `unlock` has returned must be recorded.
    broker = broker_factory(site.db, "plugin_opt_reload_interval_ms 1000\n")
    time.sleep(1.2)
    site("registry", "unlock", "--minutes", "5")
    assert not connect_result(broker.port, "quickdev", "pw-quickdev-1")
    assert wait_for(lambda: pending(site).get("quickdev"))


def test_registry_records_and_audit_rows_rebuild_no_snapshot(site, broker):
    site("registry", "unlock", "--minutes", "5")
    assert wait_for(lambda: "registry: window open" in broker.log_text())
    time.sleep(0.5)
    reloads = broker.log_text().count("cwauth: reloaded:")
    for i in range(5):
        assert not connect_result(broker.port, f"quiet-dev-{i}", f"quiet-pass-{i}")
    assert wait_for(lambda: len([u for u in pending(site) if u.startswith("quiet-dev-")]) == 5)
    site("deny", "quiet-dev-0")  # a pending row and an audit row, nothing the broker decides from
    time.sleep(1.0)
    assert broker.log_text().count("cwauth: reloaded:") == reloads
    site("allow", "quiet-dev-1")  # a new user: that is a change
    assert wait_for(lambda: broker.log_text().count("cwauth: reloaded:") == reloads + 1)


def test_refused_registrations_say_why_in_the_log(site, broker):
    site("registry", "unlock", "--minutes", "5")
    time.sleep(1.0)
    assert not connect_result(broker.port, "ab", "long-enough-pw", client_id="short-name")
    assert not connect_result(broker.port, "dev/with/slash", "long-enough-pw", client_id="slashed")
    assert not connect_result(broker.port, "okname", "pw", client_id="short-pass")
    time.sleep(0.3)
    assert pending(site) == {}
    log = broker.log_text()
    assert re.search(r"registry: not recording client short-name \(127\.0\.0\.1\): invalid username \"ab\": must be 3", log)
    assert re.search(r"registry: not recording client slashed .*may not contain '\+', '#' or '/'", log)
    assert re.search(r"registry: not recording client short-pass .*password shorter than 5 characters", log)


def test_registrations_wait_for_a_held_write_lock_without_stalling_the_broker(site, broker_factory):
    """Another process holds the database's write lock (a long `cwauth apply`): devices that knock
    meanwhile are refused at once, a connected client keeps its round trips, and the requests are
    recorded once the lock is released, instead of being lost to a busy database."""
    import sqlite3
    broker = broker_factory(site.db)
    site("user", "add", "prober", "--password", "prober-pw", "--role", "sensor")
    site("registry", "unlock")
    time.sleep(1.0)
    prober = Client(broker.port, "prober", "prober-pw")
    assert prober.subscribe("probe/lock")

    holder = sqlite3.connect(site.db, isolation_level=None, timeout=0)
    holder.execute("BEGIN IMMEDIATE")
    try:
        for i in range(3):
            assert not connect_result(broker.port, f"knock-{i}", f"knock-pw-{i}")
            prober.publish("probe/lock", str(i), qos=1)
            prober.expect("probe/lock", str(i), timeout=5)
        time.sleep(1.5)
        assert holder.execute("SELECT count(*) FROM pending_registrations").fetchone()[0] == 0
    finally:
        holder.execute("COMMIT")
        holder.close()
    assert wait_for(lambda: set(pending(site)) == {"knock-0", "knock-1", "knock-2"}, timeout=10)
    assert wait_for(lambda: "waited" in broker.log_text() and "for the database" in broker.log_text())


def test_allow_and_deny_print_one_json_object(site, broker):
    site("registry", "unlock")
    time.sleep(1.0)
    for username in ("json-dev", "other-dev"):
        assert not connect_result(broker.port, username, f"{username}-pass")
    assert wait_for(lambda: {"json-dev", "other-dev"} <= set(pending(site)))

    allowed = json.loads(site("allow", "json-dev", "--role", "sensor", "--json").stdout)
    assert allowed["changed"] is True and allowed["username"] == "json-dev" and allowed["roles"] == ["sensor"]
    assert allowed["origin"] == "registry" and "passwordHash" not in allowed
    again = site.run("allow", "json-dev", "--json")
    assert again.returncode == 1
    assert json.loads(again.stdout) == {"error": 'no pending registration named "json-dev": it is already a user'}

    denied = json.loads(site("deny", "other-dev", "--json").stdout)
    assert denied == {"removed": "other-dev", "username": "other-dev", "blocked": False, "changed": True}
    assert pending(site) == {}
