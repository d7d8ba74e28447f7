"""The scanner API's OpenAPI description is served and holds to the API: every status code it can answer is
described (found both in the code and by driving the API), every answer fits its schema, the example
requests fit the request schema and are answered 200."""

import json
import re
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from tests.factories import EventFactory
from tickets import api
from tickets.models import Scan
from tickets.services import scanner_device_create, scanner_device_revoke

pytestmark = pytest.mark.django_db
DOC = json.loads(api.OPENAPI_PATH.read_text())
PATH = DOC["paths"]["/api/v1/check-ins/"]
URL = "/api/v1/check-ins/"


def schema(name: str) -> Draft202012Validator:
    return Draft202012Validator(
        {"$ref": f"#/components/schemas/{name}", "components": DOC["components"]},
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def described_codes() -> set[int]:
    return {int(code) for operation in PATH.values() for code in operation["responses"]}


def post(client, token, body, **extra):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(URL, data, content_type="application/json", **headers, **extra)


def test_it_is_served_as_json_without_a_token(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert response.json() == DOC and DOC["openapi"] == "3.1.0"
    Draft202012Validator.check_schema({"components": DOC["components"]})


def test_every_status_code_in_the_code_is_described():
    source = Path(api.__file__).read_text()
    in_code = {int(code) for code in re.findall(r"Refusal\((\d{3})", source)} | {200, 400}  # BadRequest: 400
    assert in_code == described_codes()
    errors = set(re.findall(r'Refusal\(\d{3}, "(\w+)"', source)) | {"bad_request"}
    assert errors == set(DOC["components"]["schemas"]["Error"]["properties"]["error"]["enum"])
    reasons = DOC["components"]["schemas"]["CheckInAnswer"]["properties"]["reason"]["enum"]
    assert set(reasons) == set(Scan.Reason.values)


def test_every_answer_the_api_gives_is_described_and_fits_its_schema(client, organisation, device, token, ticket):
    winter = EventFactory(organisation=organisation)
    other_device, other_token = scanner_device_create(organisation=organisation, name="Old")
    scanner_device_revoke(device=other_device)
    answers = [
        post(client, token, {"code": ticket.secret}),  # 200 admitted
        post(client, token, {"code": ticket.secret}),  # 200 denied
        post(client, token, {"code": "nothing"}),  # 200 unknown
        post(client, token, {"code": ""}),  # 400
        post(client, None, {"code": "x"}),  # 401
        post(client, other_token, {"code": "x"}),  # 401 revoked
        post(client, token, {"code": "x", "event": winter.public_id}),  # 403
        post(client, token, {"code": "x", "event": "NOSUCH"}),  # 404
        client.get(URL, HTTP_AUTHORIZATION=f"Bearer {token}"),  # 405
        post(client, token, json.dumps({"code": "x", "pad": "x" * 5000})),  # 413
    ]
    assert {a.status_code for a in answers} == described_codes()
    for answer in answers:
        name = "CheckInAnswer" if answer.status_code == 200 else "Error"
        schema(name).validate(answer.json())
        assert str(answer.status_code) in {code for op in PATH.values() for code in op["responses"]}


def test_the_example_requests_fit_the_schema_and_are_answered(client, organisation, event, token, make_order):
    examples = PATH["post"]["requestBody"]["content"]["application/json"]["examples"]
    request_schema = schema("CheckInRequest")
    first, second = make_order(quantity=2).tickets.all()
    for example, ticket in zip(examples.values(), (first, second), strict=True):
        body = dict(example["value"])
        request_schema.validate(body)
        # The example's own code and event are made up: ours, at a time inside our event's door window.
        body.update(code=ticket.public_id if len(body["code"]) == 9 else ticket.secret)
        if "event" in body:
            body.update(event=event.public_id, scanned_at=event.starts_at.isoformat(), access_area="", access_point="")
        response = post(client, token, body)
        assert response.status_code == 200, response.json()
        schema("CheckInAnswer").validate(response.json())


def test_the_request_schema_refuses_what_the_api_refuses():
    request_schema = schema("CheckInRequest")
    for bad in ({}, {"code": ""}, {"code": "x" * 201}, {"code": "x", "client_scan_id": "x" * 65}, {"code": 1}):
        assert not request_schema.is_valid(bad), bad
