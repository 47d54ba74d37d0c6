"""The Python -> UI event path: authenticated `/ws/events` greets and then streams heartbeats."""

from fastapi.testclient import TestClient

from sage_sidecar.core.events import QUEUE_SIZE, EventBus
from sage_sidecar.schemas.protocol.events import Heartbeat

from conftest import WS_BASE


def test_authenticated_socket_gets_hello_then_heartbeats(client: TestClient, api_key):
    with client.websocket_connect(
        WS_BASE + "/ws/events", headers={"Origin": "tauri://localhost"}
    ) as ws:
        ws.send_json({"type": "auth", "apiKey": api_key})
        assert ws.receive_json() == {"type": "auth.ok"}
        assert ws.receive_json()["type"] == "hello"
        beats = [ws.receive_json() for _ in range(2)]
    assert [b["type"] for b in beats] == ["heartbeat", "heartbeat"]
    assert beats[1]["seq"] > beats[0]["seq"]
    assert beats[1]["uptimeS"] >= beats[0]["uptimeS"]


async def test_slow_subscriber_keeps_only_the_newest_events():
    bus = EventBus()
    async with bus.subscribe() as queue:
        for i in range(QUEUE_SIZE + 10):
            bus.publish(Heartbeat(uptime_s=i))
        assert queue.qsize() == QUEUE_SIZE
        assert (await queue.get()).uptime_s == 10
    assert bus.subscriber_count == 0
