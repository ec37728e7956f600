"""The plugin inside a real Mosquitto — authentication, ACL, live changes, kicks,
fail-closed behaviour and the publish prefix, all seen from real MQTT clients."""
import base64
import hashlib
import os
import shutil
import signal
import sqlite3
import subprocess
import time

import paho.mqtt.client as mqtt
import pytest

from conftest import broker_user
from mqtt_client import Client, ConnectRefused, connect_result, connect_retrying

PW = {"monitor": "monitor-pw", "dev1": "dev1-secret", "idle": "idle-secret", "site-dev": "site-secret"}


@pytest.fixture
def policy(cli):
    """monitor reads everything; dev1 writes factory/#; idle has no role; site-dev writes site1/# via a prefix."""
    cli("role", "add", "watcher")
    cli("role", "grant", "watcher", "#", "--op", "read")
    cli("role", "add", "writer")
    cli("role", "grant", "writer", "factory/#", "--op", "write")
    cli("role", "add", "narrow-reader")
    cli("role", "grant", "narrow-reader", "a/+", "--op", "read")
    cli("user", "add", "monitor", "--password", PW["monitor"], "--role", "watcher")
    cli("user", "add", "dev1", "--password", PW["dev1"], "--role", "writer")
    cli("user", "add", "idle", "--password", PW["idle"], "--role", "narrow-reader")
    return cli


@pytest.fixture
def running(policy, broker):
    clients = []

    def client(user, password=None, **kw):
        c = Client(broker.port, user, password if password is not None else PW[user], **kw)
        clients.append(c)
        return c

    yield broker, client
    for c in clients:
        c.close()


def test_wrong_password_and_unknown_user_refused_at_connack(policy, broker):
    assert connect_result(broker.port, "dev1", PW["dev1"])
    assert not connect_result(broker.port, "dev1", "not-the-password")
    assert not connect_result(broker.port, "ghost", "whatever-pass")
    assert not connect_result(broker.port, "", "")
    assert "auth deny: wrong password for dev1" in broker.log_text()


def test_mosquitto_passwd_hash_logs_in(cli, broker, workdir):
    passwd = workdir / "passwd"
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(passwd), "legacy", "legacy pass!"], check=True)
    cli("passwd-import", passwd)
    time.sleep(1.0)  # the broker picks the change up on its next probe
    assert connect_result(broker.port, "legacy", "legacy pass!")
    assert not connect_result(broker.port, "legacy", "legacy pass?")


def test_allowed_publish_is_delivered_and_forbidden_is_dropped(running):
    broker, client = running
    monitor = client("monitor")
    assert monitor.subscribe("#")
    dev = client("dev1")
    dev.publish("factory/line1/temp", "21.5")
    dev.publish("office/coffee", "empty")
    dev.publish("factory/line1/temp", "22.0")
    got = monitor.received(1.0)
    assert ("factory/line1/temp", "21.5") in got and ("factory/line1/temp", "22.0") in got
    assert all(topic != "office/coffee" for topic, _ in got)


def test_subscribe_needs_a_read_permission_covering_the_whole_filter(running):
    broker, client = running
    dev = client("dev1")                       # write-only role
    assert not dev.subscribe("factory/#")
    idle = client("idle")                       # may read a/+
    assert idle.subscribe("a/+")
    assert idle.subscribe("a/b")
    assert not idle.subscribe("a/#")            # a/# also matches a and a/b/c
    assert not idle.subscribe("#")
    client("monitor").publish("a/b/c", "deep")  # monitor may not write; and idle must not see it anyway
    dev.publish("factory/x", "not for idle")
    assert idle.received(0.7) == []


def test_user_without_roles_can_connect_but_do_nothing(running, policy):
    broker, client = running
    policy("user", "add", "bare", "--password", "bare-secret")
    time.sleep(1.0)
    monitor = client("monitor")
    assert monitor.subscribe("#")
    bare = client("bare", "bare-secret")
    assert not bare.subscribe("#")
    bare.publish("factory/x", "from bare")
    assert monitor.received(0.7) == []


def test_revoke_and_unassign_take_effect_without_restart(running, policy):
    broker, client = running
    monitor = client("monitor")
    assert monitor.subscribe("#")
    dev = client("dev1")
    dev.publish("factory/a", "before")
    assert monitor.expect("factory/a", "before")

    policy("role", "grant", "writer", "lab/#", "--op", "write")
    policy("role", "revoke", "writer", "factory/#")
    time.sleep(1.0)
    dev.publish("factory/a", "after-revoke")
    dev.publish("lab/a", "granted")
    assert monitor.expect("lab/a", "granted")
    assert ("factory/a", "after-revoke") not in monitor.received(0.5)

    policy("user", "unassign", "dev1", "writer")
    time.sleep(1.0)
    # losing a role disconnects the user's clients; a fresh connection has no permission left
    dev2 = client("dev1")
    dev2.publish("lab/a", "after-unassign")
    assert monitor.received(0.7) == []


def test_disable_kicks_connected_client_and_blocks_reconnect(running, policy):
    broker, client = running
    dev = client("dev1")
    started = time.time()
    policy("user", "disable", "dev1")
    assert dev.disconnected.wait(3.0), "client was not disconnected"
    print(f"kicked {time.time() - started:.2f}s after `user disable`")
    assert not connect_result(broker.port, "dev1", PW["dev1"])
    policy("user", "enable", "dev1")
    time.sleep(1.0)
    assert connect_result(broker.port, "dev1", PW["dev1"])


def test_user_rm_and_password_change_kick(running, policy):
    broker, client = running
    dev = client("dev1")
    policy("user", "passwd", "dev1", "--password", "new-secret-1")
    assert dev.disconnected.wait(3.0)
    assert not connect_result(broker.port, "dev1", PW["dev1"])
    assert connect_result(broker.port, "dev1", "new-secret-1")
    dev = client("dev1", "new-secret-1")
    policy("user", "rm", "dev1")
    assert dev.disconnected.wait(3.0)
    assert not connect_result(broker.port, "dev1", "new-secret-1")


def backup(db, target):
    src = sqlite3.connect(db)
    dst = sqlite3.connect(target)
    src.backup(dst)
    dst.close()
    src.close()


def chown_to_broker(path):
    user = broker_user()
    if user:
        os.chown(path, user.pw_uid, user.pw_gid)


def test_deleted_database_keeps_last_snapshot_then_resumes(running, policy, workdir):
    broker, client = running
    db = policy.db
    monitor = client("monitor")
    assert monitor.subscribe("#")
    saved = workdir / "saved.db"
    backup(db, saved)
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    time.sleep(1.0)
    assert broker.alive()
    assert "is missing" in broker.log_text()
    dev = client("dev1")                          # still known from the snapshot
    dev.publish("factory/a", "served-from-snapshot")
    dev.publish("lab/a", "still-denied")
    got = monitor.received(1.0)
    assert ("factory/a", "served-from-snapshot") in got
    assert ("lab/a", "still-denied") not in got
    assert not connect_result(broker.port, "ghost", "ghost-pass")
    assert broker.log_text().count("is missing") == 1, "failure must be logged once, not per probe"

    shutil.copy(saved, db)                        # restore from backup
    chown_to_broker(db)
    policy("role", "grant", "writer", "lab/#", "--op", "write")
    time.sleep(1.0)
    dev.publish("lab/a", "after-restore")
    assert monitor.expect("lab/a", "after-restore")
    assert broker.alive()


@pytest.mark.skipif(os.geteuid() != 0 and broker_user() is None, reason="needs the broker to run as another user")
def test_unreadable_database_serves_last_snapshot_and_allows_nothing_new(running, policy):
    broker, client = running
    if broker_user() is None:
        pytest.skip("permission bits do not bind the broker here (same user, root)")
    db = policy.db
    monitor = client("monitor")
    assert monitor.subscribe("#")
    os.chmod(db, 0)
    time.sleep(1.0)
    policy("role", "grant", "writer", "lab/#", "--op", "write")   # root can still write; the broker must not
    time.sleep(1.0)
    dev = client("dev1")
    dev.publish("lab/a", "must-stay-denied")
    dev.publish("factory/a", "still-allowed")
    got = monitor.received(1.0)
    assert ("factory/a", "still-allowed") in got
    assert ("lab/a", "must-stay-denied") not in got
    assert "not readable" in broker.log_text()
    os.chmod(db, 0o644)
    time.sleep(1.0)
    dev.publish("lab/a", "after-chmod")
    assert monitor.expect("lab/a", "after-chmod")
    assert "readable again" in broker.log_text()


def test_corrupt_database_keeps_serving(running, policy):
    broker, client = running
    monitor = client("monitor")
    assert monitor.subscribe("#")
    db = policy.db
    # Overwrite the header of the main file: SQLite can no longer read it.
    with open(db, "r+b") as f:
        f.write(b"this is not a database" * 10)
    policy.run("role", "grant", "writer", "lab/#", "--op", "write")  # fails: corrupt
    time.sleep(1.0)
    assert broker.alive()
    dev = client("dev1")
    dev.publish("factory/a", "ok")
    dev.publish("lab/a", "no")
    got = monitor.received(1.0)
    assert ("factory/a", "ok") in got and ("lab/a", "no") not in got


def test_publish_prefix_rewrites_topic(running, policy):
    broker, client = running
    policy("role", "add", "site-writer")
    policy("role", "grant", "site-writer", "site1/#", "--op", "write")
    policy("user", "add", "site-dev", "--password", PW["site-dev"], "--role", "site-writer")
    policy("user", "set-prefix", "site-dev", "site1/")
    time.sleep(1.0)
    monitor = client("monitor")
    assert monitor.subscribe("#")
    dev = client("site-dev")
    dev.publish("x/y", "prefixed")
    assert monitor.expect("site1/x/y", "prefixed")
    assert all(topic != "x/y" for topic, _ in monitor.received(0.3))


def test_missing_database_refuses_to_start(workdir, broker_factory):
    with pytest.raises(AssertionError, match="refusing to start"):
        broker_factory(workdir / "does-not-exist.db")


def test_last_will_is_checked_on_the_topic_the_broker_publishes(cli, broker):
    """A will goes out without the publish prefix, so it is allowed only where the user may publish
    that very topic: the prefix must not let a will escape to a bare topic."""
    cli("role", "add", "watcher")
    cli("role", "grant", "watcher", "#", "--op", "read")
    cli("user", "add", "monitor", "--password", PW["monitor"], "--role", "watcher")
    cli("role", "add", "site-sensor")
    cli("role", "grant", "site-sensor", "site1/sensors/%u/#", "--op", "write")
    cli("role", "grant", "site-sensor", "status/%u", "--op", "write")
    cli("role", "grant", "site-sensor", "inbox/%u", "--op", "read")
    cli("user", "add", "pfx-1", "--password", "pfx-pass-1", "--role", "site-sensor", "--publish-prefix", "site1/")
    time.sleep(1.0)
    monitor = Client(broker.port, "monitor", PW["monitor"])
    assert monitor.subscribe("#")

    def killed_with_will(will_topic, client_id):
        proc = subprocess.Popen(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(broker.port), "-u", "pfx-1", "-P", "pfx-pass-1",
                                 "-i", client_id, "-t", "inbox/pfx-1", "--will-topic", will_topic, "--will-payload", "gone"])
        deadline = time.time() + 5
        while f"auth allow: pfx-1 (client {client_id}" not in broker.log_text() and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)
        proc.kill()  # no DISCONNECT: the broker sends the will
        proc.wait()

    # Allowed as a publish (site1/sensors/pfx-1/status), but the will would go out bare: refused.
    killed_with_will("sensors/pfx-1/status", "will-1")
    # A will on a topic the user may publish as such is delivered.
    killed_with_will("status/pfx-1", "will-2")
    got = monitor.received(wait=1.5)
    assert ("status/pfx-1", "gone") in got
    assert not [t for t, _ in got if t.endswith("sensors/pfx-1/status")], got
    assert "acl deny will: pfx-1" in broker.log_text()
    monitor.close()


def test_taken_over_session_will_is_checked_on_its_bare_topic(cli, broker):
    cli("role", "add", "watcher")
    cli("role", "grant", "watcher", "#", "--op", "read")
    cli("user", "add", "monitor", "--password", PW["monitor"], "--role", "watcher")
    cli("role", "add", "site-sensor")
    cli("role", "grant", "site-sensor", "site1/sensors/%u/#", "--op", "write")
    cli("user", "add", "pfx-2", "--password", "pfx-pass-2", "--role", "site-sensor", "--publish-prefix", "site1/")
    time.sleep(1.0)
    monitor = Client(broker.port, "monitor", PW["monitor"])
    assert monitor.subscribe("#")
    old = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="dup-1", protocol=mqtt.MQTTv311, reconnect_on_failure=False)
    old.username_pw_set("pfx-2", "pfx-pass-2")
    old.will_set("sensors/pfx-2/status", "gone")
    old.connect("127.0.0.1", broker.port)
    old.loop_start()
    time.sleep(0.5)
    # Same client id, clean session: Mosquitto sends the old connection's will.
    new = Client(broker.port, "pfx-2", "pfx-pass-2", client_id="dup-1")
    got = monitor.received(wait=1.0)
    old.loop_stop()
    new.close()
    monitor.close()
    assert not [t for t, _ in got if t.endswith("sensors/pfx-2/status")], got
    assert "acl deny will: pfx-2" in broker.log_text()


def test_sighup_reloads_without_a_false_error(policy, broker):
    assert connect_result(broker.port, "dev1", PW["dev1"])
    broker.proc.send_signal(signal.SIGHUP)
    deadline = time.time() + 5
    while "reload: login cache and back-offs cleared" not in broker.log_text() and time.time() < deadline:
        time.sleep(0.1)
    log = broker.log_text()
    assert "reload: login cache and back-offs cleared" in log
    assert "is required" not in log and "keeping the previous options" not in log
    assert connect_result(broker.port, "dev1", PW["dev1"])


def test_a_client_id_that_begins_with_a_username_cannot_be_borrowed(cli, broker):
    """alice's persistent session `alice-phone` holds a queued QoS 1 message: bob may not connect
    with her client id (he would take her session and her messages), and `%c` grants him nothing."""
    cli("role", "add", "device")
    cli("role", "grant", "device", "devices/%c/#", "--op", "readWrite")
    cli("role", "add", "ops")
    cli("role", "grant", "ops", "#", "--op", "readWrite")
    cli("user", "add", "alice", "--password", "alice-pass", "--role", "device")
    cli("user", "add", "bob", "--password", "bob-pass", "--role", "device")
    cli("user", "add", "operator", "--password", "operator-pass", "--role", "ops")
    time.sleep(1.0)
    alice = Client(broker.port, "alice", "alice-pass", client_id="alice-phone", clean_session=False)
    assert alice.subscribe("devices/alice-phone/cmd", qos=1)
    alice.close()
    operator = Client(broker.port, "operator", "operator-pass")
    operator.publish("devices/alice-phone/cmd", "queued-1", qos=1)

    with pytest.raises(ConnectRefused):
        Client(broker.port, "bob", "bob-pass", client_id="alice-phone", clean_session=False)
    assert "bob may not use client id alice-phone: it belongs to user alice" in broker.log_text()

    # With his own id bob's %c is his own; with an id that belongs to no user, %c grants nothing.
    assert operator.subscribe("devices/#")
    for client_id in ("bob-1", "sensor-9"):
        bob = Client(broker.port, "bob", "bob-pass", client_id=client_id)
        bob.publish(f"devices/{client_id}/state", "from-bob", qos=1)
        bob.publish("devices/alice-phone/cmd", "forged", qos=1)
        bob.close()
    got = operator.received(wait=1.0)
    assert ("devices/bob-1/state", "from-bob") in got
    assert ("devices/sensor-9/state", "from-bob") not in got
    assert ("devices/alice-phone/cmd", "forged") not in got

    alice = Client(broker.port, "alice", "alice-pass", client_id="alice-phone", clean_session=False)
    alice.expect("devices/alice-phone/cmd", "queued-1")
    alice.close()
    operator.close()


def pbkdf2_hash(password, iterations, salt=b"costly-salt-16b!"):
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations, 64)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def test_a_stored_hash_over_the_cost_ceiling_cannot_log_in(policy, broker_factory):
    # Written past the CLI (an older version accepted any cost): one CONNECT naming this user would
    # make the broker run a million PBKDF2 iterations on its only thread.
    with sqlite3.connect(policy.db) as db:
        db.execute("UPDATE users SET password_hash = ? WHERE username = 'dev1'", (pbkdf2_hash(PW["dev1"], 1_000_000),))
        db.execute("UPDATE users SET password_hash = ? WHERE username = 'idle'", (pbkdf2_hash(PW["idle"], 20_000),))
    broker = broker_factory(policy.db)
    # A client reconnects when closed without a CONNACK (a busy broker verifies beside its thread).
    assert connect_retrying(broker.port, "dev1", PW["dev1"], "dev1")[0] == 5  # not authorized
    assert connect_retrying(broker.port, "idle", PW["idle"], "idle")[0] == 0  # at the ceiling: still usable
    log = broker.log_text()
    assert ("1 user cannot log in: their password hash is malformed or costs more than 20000 iterations (dev1); "
            "set a new password with cwauth user passwd") in log
    policy("user", "passwd", "dev1", "--password", "dev1-new-secret")
    time.sleep(1.0)  # the broker picks the change up on its next probe
    assert connect_retrying(broker.port, "dev1", "dev1-new-secret", "dev1")[0] == 0
