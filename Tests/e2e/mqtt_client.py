"""A small synchronous wrapper over paho-mqtt for tests: every call waits for the broker's answer."""
import queue
import socket
import struct
import threading
import time
import uuid

import paho.mqtt.client as mqtt


class ConnectRefused(Exception):
    pass


class Client:
    def __init__(self, port, username, password, client_id=None, timeout=5.0, source="", clean_session=True):
        self.client_id = client_id or f"t-{uuid.uuid4().hex[:12]}"
        self.messages = queue.Queue()
        self.connected = threading.Event()
        self.disconnected = threading.Event()
        self.connack = None
        self._subacks = {}
        self._suback_event = threading.Condition()
        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=self.client_id,
                             protocol=mqtt.MQTTv311, reconnect_on_failure=False, clean_session=clean_session)
        self.c.username_pw_set(username, password)
        self.c.on_connect = self._on_connect
        self.c.on_disconnect = self._on_disconnect
        self.c.on_message = lambda c, u, msg: self.messages.put((msg.topic, msg.payload.decode(errors="replace")))
        self.c.on_subscribe = self._on_subscribe
        # `source`: another loopback address (127.0.0.2, ...) plays a client on another host.
        self.c.connect("127.0.0.1", port, keepalive=30, bind_address=source)
        self.c.loop_start()
        if not self.connected.wait(timeout) and not self.disconnected.is_set():
            self.close()
            raise TimeoutError("no CONNACK")
        if self.connack is None or self.connack.is_failure:
            self.close()
            raise ConnectRefused(str(self.connack))

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        self.connack = reason_code
        if reason_code.is_failure:
            self.disconnected.set()
        self.connected.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties):
        self.disconnected.set()
        self.connected.set()

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties):
        with self._suback_event:
            self._subacks[mid] = reason_codes
            self._suback_event.notify_all()

    def subscribe(self, topic, qos=1, timeout=5.0):
        """Returns True when the SUBACK grants the subscription, False when it carries a failure code."""
        _, mid = self.c.subscribe(topic, qos)
        with self._suback_event:
            if not self._suback_event.wait_for(lambda: mid in self._subacks, timeout):
                raise TimeoutError(f"no SUBACK for {topic}")
            return not self._subacks.pop(mid)[0].is_failure

    def publish(self, topic, payload, qos=1, timeout=5.0):
        info = self.c.publish(topic, payload, qos=qos)
        info.wait_for_publish(timeout)
        return info.is_published()

    def expect(self, topic, payload, timeout=5.0):
        """Waits for that exact message; other messages are skipped."""
        import time
        deadline = time.time() + timeout
        while True:
            left = deadline - time.time()
            if left <= 0:
                return False
            try:
                got = self.messages.get(timeout=left)
            except queue.Empty:
                return False
            if got == (topic, payload):
                return True

    def received(self, wait=0.5):
        """Everything that arrives within `wait` seconds."""
        import time
        time.sleep(wait)
        out = []
        while not self.messages.empty():
            out.append(self.messages.get_nowait())
        return out

    def close(self):
        try:
            self.c.disconnect()
        except Exception:
            pass
        self.c.loop_stop()


def connect_result(port, username, password, client_id=None, source=""):
    """True if the broker accepts the CONNECT, False if it refuses it."""
    try:
        Client(port, username, password, client_id, source=source).close()
        return True
    except ConnectRefused:
        return False


def raw_connect(port, username, password, client_id, timeout=5.0, source=""):
    """One MQTT 3.1.1 CONNECT over a plain socket; returns the CONNACK return code.
    Cheap enough to run thousands of times (the flood test)."""
    def field(s):
        b = s.encode()
        return struct.pack("!H", len(b)) + b
    variable = field("MQTT") + bytes([4, 0xC2]) + struct.pack("!H", 30)
    payload = field(client_id) + field(username) + field(password)
    body = variable + payload
    length = len(body)
    encoded = bytearray()
    while True:
        byte = length % 128
        length //= 128
        encoded.append(byte | (0x80 if length else 0))
        if not length:
            break
    with socket.create_connection(("127.0.0.1", port), timeout=timeout, source_address=(source, 0) if source else None) as s:
        s.sendall(bytes([0x10]) + bytes(encoded) + body)
        ack = b""
        while len(ack) < 4:
            chunk = s.recv(4 - len(ack))
            if not chunk:
                break
            ack += chunk
        if len(ack) < 4 or ack[0] != 0x20:
            raise ConnectionError(f"no CONNACK: {ack!r}")
        return ack[3]


def connect_retrying(port, username, password, client_id, attempts=50, delay=0.2, source=""):
    """raw_connect as a client with automatic reconnect behaves: a connection closed without a
    CONNACK is tried again. Returns (CONNACK code, number of retries)."""
    for retry in range(attempts):
        try:
            return raw_connect(port, username, password, client_id, source=source), retry
        except (ConnectionError, OSError):
            time.sleep(delay)
    raise ConnectionError(f"{username}: no CONNACK after {attempts} attempts")
