from tests.conftest import Api


async def test_health(api: Api) -> None:
    response = await api.client.get("http://testserver/healthz")
    assert response.json() == {"status": "ok"}
    response = await api.client.get("http://testserver/readyz")
    assert response.status_code == 200
