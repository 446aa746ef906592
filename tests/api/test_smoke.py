from tests.support.api import Api


async def test_health(api: Api) -> None:
    response = await api.client.get("http://testserver/healthz")
    assert response.json() == {"status": "ok"}
    response = await api.client.get("http://testserver/readyz")
    assert response.status_code == 200


async def test_the_openapi_document_says_what_the_api_takes_and_gives(api: Api) -> None:
    """Times are typed date-time, and a teacher's decision lists only the statuses the
    service accepts from a teacher (`pending` is the verifier's)."""
    document = (await api.client.get("http://testserver/openapi.json")).json()
    schemas = document["components"]["schemas"]
    start_time = schemas["LessonOut"]["properties"]["start_time"]
    assert (start_time["type"], start_time["format"]) == ("string", "date-time")
    decided = schemas["CorrectionIn"]["properties"]["status"]["enum"]
    assert set(decided) == {"present", "late", "rejected", "excused", "absent"}
    roll = document["paths"]["/api/v1/teacher/lessons/{lesson_id}/records"]["get"]
    limit = next(p for p in roll["parameters"] if p["name"] == "limit")
    assert limit["required"] is False
