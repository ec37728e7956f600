"""The broker's edge: whatever a client makes the plugin do has a bounded cost, so no client can
slow the others. Each test drives a real Mosquitto with real clients and asserts what a user sees:
round trips that still complete, refused CONNACKs, and the lines the broker logs."""
import json
import re
import threading
import time

import paho.mqtt.client as mqtt

from mqtt_client import Client, connect_result, connect_retrying, raw_connect

DEVICE_PW = "device-pass-1"


def big_roles_policy(workdir, cli, perms_per_role=800):
    """`flooder` holds two roles of `perms_per_role` write permissions each, none on `forbidden/#`;
    `worker` may write and read `work/#`."""
    roles = [{"name": f"big-{r}", "permissions": [
        {"resource": f"plant/{r}/line{i}/+/telemetry/#", "operation": "write", "context": "mqtt"}
        for i in range(perms_per_role)]} for r in range(2)]
    roles.append({"name": "worker", "permissions": [{"resource": "work/#", "operation": "readWrite", "context": "mqtt"}]})
    users = [{"username": "flooder", "password": "flooder-pass", "roles": ["big-0", "big-1"]},
             {"username": "worker", "password": "worker-pass", "roles": ["worker"]}]
    path = workdir / "big.json"
    path.write_text(json.dumps({"roles": roles, "users": users}))
    cli("apply", path)


def test_denied_flood_does_not_starve_an_allowed_client(workdir, cli, broker_factory):
    big_roles_policy(workdir, cli)
    broker = broker_factory(cli.db)
    worker = Client(broker.port, "worker", "worker-pass")
    assert worker.subscribe("work/#")

    flooder = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="flooder", protocol=mqtt.MQTTv311)
    flooder.username_pw_set("flooder", "flooder-pass")
    flooder.max_queued_messages_set(0)
    flooder.connect("127.0.0.1", broker.port)
    flooder.loop_start()
    stop = threading.Event()
    sent = [0]

    def flood():
        deadline = time.time() + 4
        while not stop.is_set() and time.time() < deadline and sent[0] < 200_000:
            flooder.publish("forbidden/topic", b"x" * 16, qos=0)
            sent[0] += 1

    thread = threading.Thread(target=flood)
    thread.start()
    try:
        round_trips = 0
        time.sleep(0.3)
        while thread.is_alive() and round_trips < 200:
            worker.publish(f"work/{round_trips}", "ping", qos=1)
            worker.expect(f"work/{round_trips}", "ping", timeout=5)  # raises if the broker starved it
            round_trips += 1
    finally:
        stop.set()
        thread.join()
        flooder.loop_stop()
        flooder.disconnect()
    worker.close()
    assert round_trips >= 5, "the allowed client got almost nothing through during the flood"
    assert sent[0] > 1000, "the flood was too small to test anything"
    time.sleep(0.6)  # the next probe reports what was not explained
    log = broker.log_text()
    explained = len(re.findall(r"acl deny write: flooder .* on forbidden/topic", log))
    assert 0 < explained < 100, f"{explained} denials explained: the explanations are not rate-limited"
    match = re.search(r"acl: (\d+) more denied check\(s\) not explained", log)
    assert match and int(match.group(1)) > 0, "the unexplained denials were not counted"


def test_brute_force_is_throttled_logged_and_the_device_still_gets_in(cli, broker_factory):
    cli("user", "add", "device-7", "--password", DEVICE_PW)
    # No success cache: the device's own address is what keeps it working, not a cached login.
    broker = broker_factory(cli.db, "plugin_opt_auth_cache_seconds 0\n")
    assert connect_result(broker.port, "device-7", DEVICE_PW, source="127.0.0.1")

    def guess(i):
        return raw_connect(broker.port, "device-7", f"guess-{i:04d}", f"attacker-{i}", source="127.0.0.2")

    codes = [guess(i) for i in range(40)]
    assert all(code != 0 for code in codes)
    log = broker.log_text()
    assert "auth: username device-7 backs off for 1 s after 5 failed password checks" in log
    hashed = log.count("auth deny: wrong password for device-7")
    assert hashed < 10, f"{hashed} of 40 guesses were hashed"
    assert "throttled by username" in log

    # Right after a guess the username is backing off (at least 1 s): the device's own address is
    # exempt, a new address is refused without its password being checked.
    guess(100)
    assert connect_result(broker.port, "device-7", DEVICE_PW, source="127.0.0.1")
    guess(101)
    assert not connect_result(broker.port, "device-7", DEVICE_PW, source="127.0.0.3")
    assert re.search(r"auth deny: device-7 \(client [^)]*, 127\.0\.0\.3\) throttled by username", broker.log_text())


def test_admin_password_change_clears_the_backoff(cli, broker_factory):
    cli("user", "add", "device-8", "--password", DEVICE_PW)
    broker = broker_factory(cli.db, "plugin_opt_auth_cache_seconds 0\n")
    for i in range(8):
        raw_connect(broker.port, "device-8", f"guess-{i}", f"attacker-{i}", source="127.0.0.2")
    cli("user", "passwd", "device-8", "--password", "new-device-pass")
    time.sleep(1.0)  # the broker picks the change up on its next probe
    assert connect_result(broker.port, "device-8", "new-device-pass", source="127.0.0.4")


def test_reconnect_storm_is_served_from_the_auth_cache(workdir, cli, broker_factory):
    users = [{"username": f"dev-{i:03d}", "password": f"pass-{i:03d}-x", "roles": []} for i in range(150)]
    path = workdir / "fleet.json"
    path.write_text(json.dumps({"roles": [], "users": users}))
    cli("apply", path)
    broker = broker_factory(cli.db)
    for user in users:
        # Cold: past the broker thread's hashing budget a client is asked to come back.
        assert connect_retrying(broker.port, user["username"], user["password"], user["username"])[0] == 0
    before = broker.log_text().count("from cache)")
    for _ in range(2):
        for user in users:
            assert raw_connect(broker.port, user["username"], user["password"], user["username"]) == 0
    assert broker.log_text().count("from cache)") - before == 2 * len(users)


def test_cold_storm_is_verified_off_the_broker_thread(workdir, cli, broker_factory):
    """After a restart no password is cached: past the hashing budget the broker thread hands the
    check to the plugin's verifier and closes the connection unanswered; the client's reconnect is
    let in from the cache, and a connected client keeps its round trips meanwhile."""
    users = [{"username": f"cold-{i:03d}", "password": f"pass-{i:03d}-x", "roles": []} for i in range(120)]
    users.append({"username": "worker", "password": "worker-pass", "roles": ["worker"]})
    roles = [{"name": "worker", "permissions": [{"resource": "work/#", "operation": "readWrite", "context": "mqtt"}]}]
    path = workdir / "fleet.json"
    path.write_text(json.dumps({"roles": roles, "users": users}))
    cli("apply", path)
    broker = broker_factory(cli.db, "plugin_opt_hash_budget_ms 10\n")
    worker = Client(broker.port, "worker", "worker-pass")
    assert worker.subscribe("work/#")

    results = []
    def storm(part):
        for user in part:
            results.append(connect_retrying(broker.port, user["username"], user["password"], user["username"]))
    threads = [threading.Thread(target=storm, args=(users[i:120:4],)) for i in range(4)]
    for t in threads:
        t.start()
    round_trips = 0
    while any(t.is_alive() for t in threads):
        worker.publish(f"work/{round_trips}", "ping", qos=1)
        worker.expect(f"work/{round_trips}", "ping", timeout=5)
        round_trips += 1
    for t in threads:
        t.join()

    assert len(results) == 120 and all(code == 0 for code, _ in results), "every device gets in"
    log = broker.log_text()
    if "(Mosquitto 2.1 delayed auth)" in log:
        # 2.1 holds each CONNECT until the verifier has answered: nobody needs to come back.
        assert sum(retries for _, retries in results) == 0
        assert "password checked off the broker thread, the broker waits" in log
    else:
        assert "(Mosquitto 2.0)" in log
        assert sum(retries for _, retries in results) > 0, "a 10 ms budget cannot hash 120 passwords in place"
        assert re.search(r"auth: asked \d+ login\(s\) to reconnect while passwords are verified off the broker thread", log)
    # A wrong password verified elsewhere is refused on the retry, not let in.
    code, _ = connect_retrying(broker.port, "cold-000", "not-the-password", "cold-000")
    assert code == 5
