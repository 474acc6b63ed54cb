import pytest

from tests.support.server import LiveServer


@pytest.mark.db
def test_server_answers_health_and_accepts_a_record(server: LiveServer) -> None:
    with server.client() as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        answer = client.post(
            "/v1/records",
            json=[
                {"event_id": "e1", "ts_start": 1770000000, "account_id": "a", "request_model": "m"}
            ],
        )
        assert answer.status_code == 200
        assert answer.json()["accepted"] == 1
