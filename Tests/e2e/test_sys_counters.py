"""The plugin's counters on $SYS/broker/cwauth/..., published by a real Mosquitto and read by real
clients: only a permission on them lets a client see them, and they count what clients did."""
import time

from mqtt_client import Client, connect_result

PW = {"scraper": "scraper-pw", "ops": "ops-password", "dev1": "dev1-secret"}


class Counters:
    """The latest value of each counter a subscriber received (retained ones first, then each round)."""

    def __init__(self, client):
        self.client = client
        self.seen = {}

    def wait_for(self, condition, what, timeout=8.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for topic, payload in self.client.received(0.3):
                self.seen[topic.removeprefix("$SYS/broker/cwauth/")] = int(payload)
            if condition(self.seen):
                return self.seen
        raise AssertionError(f"{what}: not seen; got {self.seen}")


def test_counters_reach_only_readers_with_a_permission_on_them(cli, broker_factory):
    cli("role", "add", "metrics")
    cli("role", "grant", "metrics", "$SYS/broker/cwauth/#", "--op", "read")
    cli("role", "add", "ops")
    cli("role", "grant", "ops", "#", "--op", "readWrite")
    cli("role", "add", "writer")
    cli("role", "grant", "writer", "factory/#", "--op", "write")
    cli("user", "add", "scraper", "--password", PW["scraper"], "--role", "metrics")
    cli("user", "add", "ops", "--password", PW["ops"], "--role", "ops")
    cli("user", "add", "dev1", "--password", PW["dev1"], "--role", "writer")
    broker = broker_factory(cli.db, "plugin_opt_sys_interval 1\n")

    # '#' does not reach into $SYS: a subscription to the counters is refused without a permission on them.
    ops = Client(broker.port, "ops", PW["ops"])
    assert not ops.subscribe("$SYS/broker/cwauth/#")
    assert ops.subscribe("#")

    assert not connect_result(broker.port, "dev1", "not-the-password")
    assert not connect_result(broker.port, "ghost", "whatever-pass")
    dev = Client(broker.port, "dev1", PW["dev1"])
    dev.publish("factory/line1/temp", "21.5")
    dev.publish("office/coffee", "empty", qos=0)

    scraper = Client(broker.port, "scraper", PW["scraper"])
    assert scraper.subscribe("$SYS/broker/cwauth/#")
    names = ["auth/allowed", "auth/denied", "auth/throttled", "acl/allowed", "acl/denied",
             "registry/recorded", "registry/dropped", "snapshot/rebuilds", "snapshot/build_ms",
             "snapshot/rules", "snapshot/users", "snapshot/age_seconds"]
    got = Counters(scraper)
    got.wait_for(lambda seen: all(name in seen for name in names), "every counter")
    # Each round publishes what happened since the broker started: the logins and checks above.
    first = got.wait_for(lambda seen: seen["auth/allowed"] >= 3 and seen["auth/denied"] >= 2 and seen["acl/denied"] >= 1,
                         "the logins (ops, dev1, scraper; a wrong password, an unknown user) and the denied publish")
    assert first["snapshot/rules"] == 3 and first["snapshot/users"] == 3
    rebuilds = first["snapshot/rebuilds"]

    # A change is counted as a rebuild once the broker has swapped it in.
    cli("user", "disable", "ops")
    got.wait_for(lambda seen: seen["snapshot/rebuilds"] > rebuilds and seen["snapshot/users"] == 3, "the rebuild")
    # The ops client saw none of it: its '#' does not cover $SYS, and the delivery check says so too.
    assert all(not topic.startswith("$SYS/") for topic, _ in ops.received(0.2))
    for c in (ops, dev, scraper):
        c.close()
