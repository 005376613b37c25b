"""Object-level authorization, generated from each service's OpenAPI schema (its URL configuration).

- Every operation on a customer's object (a path with an id) answers 404 to another customer and
  401 to nobody, and the object is unchanged afterwards.
- Every list answers only the caller's objects.
- No write operation a customer can call accepts ``user``, ``status`` or an amount, and sending
  them anyway changes nothing.
- Catalogue writes need staff; the page size is capped; the gateway refuses large bodies (413);
  a long URL is answered in JSON, by the service up to the gateway's limit and by the gateway past it.
"""

from __future__ import annotations

import base64
import json
import re
import uuid

import pytest
from e2e.support import Client, login, register, request

pytestmark = pytest.mark.slow

# URL prefix -> the customer-owned resource its id parameters name.
OWNED = {"bookings": "bookings", "payments": "payments", "notifications": "notifications"}
# Public or provider-facing operations: not a customer's object.
NOT_OWNED = {
    ("get", "/api/bookings/showtimes/{showtime_id}/seats/"),
    ("post", "/api/payments/webhook/"),
}
PREFIXES = ("auth", "movies", "bookings", "payments", "notifications")
FORBIDDEN_FIELDS = {
    "user",
    "user_id",
    "owner",
    "status",
    "amount",
    "total_amount",
    "price",
    "is_staff",
    "is_superuser",
    "is_paid",
}
WRITE_METHODS = ("post", "put", "patch", "delete")
_PARAMETER = re.compile(r"{(\w+)}")


def schema(prefix: str) -> dict:
    reply = request("GET", f"/api/{prefix}/schema/?format=json")
    assert reply.status == 200, reply
    return reply.body


def operations(document: dict):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in ("get", *WRITE_METHODS):
                yield method, path, operation


def snapshot(owner: dict) -> dict:
    """What the owner sees of their objects (the fields a foreign request could change)."""
    client: Client = owner["client"]
    booking = client.booking(owner["bookings"])
    payments = client.payments_for(owner["bookings"])
    notifications = client.all_pages("/api/notifications/")
    return {
        "booking": (booking["status"], booking["seats"], booking["total_amount"], len(booking["timeline"])),
        "payments": sorted((p["id"], p["status"], p["amount"]) for p in payments),
        "notifications": sorted((n["id"], n["status"], n.get("read_at")) for n in notifications),
    }


def test_another_customers_object_is_not_found_and_unchanged(system, owners):
    # given alice's booking, payment and notification, and bob
    alice, bob = owners["alice"], owners["bob"]["client"]
    before = snapshot(alice)
    cases = []
    for prefix, resource in OWNED.items():
        for method, path, _ in operations(schema(prefix)):
            names = _PARAMETER.findall(path)
            if not names or (method, path) in NOT_OWNED:
                continue
            assert len(names) == 1, f"{method.upper()} {path}: which object do these ids name? {names}"
            cases.append((method, path, path.replace("{" + names[0] + "}", alice[resource])))
    assert len(cases) >= 4, cases  # booking detail and cancel, payment detail, notification read

    # when bob (and then nobody) calls every operation on alice's objects
    found = []
    for method, path, url in cases:
        as_bob = request(method.upper(), url, json_body={}, token=bob.token)
        anonymous = request(method.upper(), url, json_body={})
        found.append((method.upper(), path, as_bob.status, anonymous.status))

    # then bob gets 404 and nobody 401, everywhere, and nothing of alice's changed
    assert [case for case in found if case[2:] != (404, 401)] == [], found
    assert snapshot(alice) == before


def test_lists_return_only_the_callers_objects(system, owners):
    for prefix, resource in OWNED.items():
        lists = [path for method, path, _ in operations(schema(prefix)) if method == "get" and "{" not in path]
        assert lists, prefix
        for path in lists:
            seen = {name: {item["id"] for item in owner["client"].all_pages(path)} for name, owner in owners.items()}
            assert owners["alice"][resource] in seen["alice"], path
            assert owners["bob"][resource] in seen["bob"], path
            assert seen["alice"].isdisjoint(seen["bob"]), path


def writable_properties(document: dict, operation: dict) -> set[str]:
    """Properties of the request body a client may send (``readOnly`` ones are ignored by DRF)."""
    found: set[str] = set()
    for media in operation.get("requestBody", {}).get("content", {}).values():
        body = media.get("schema", {})
        ref = body.get("$ref") or body.get("items", {}).get("$ref")
        if ref:
            body = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
        for name, prop in body.get("properties", {}).items():
            if not prop.get("readOnly"):
                found.add(name)
    return found


def test_no_customer_operation_accepts_owner_status_or_amount(system):
    # given every write operation of every service except the catalogue's staff resources
    # (staff set prices there) and the provider's webhook
    offending = []
    for prefix in PREFIXES:
        document = schema(prefix)
        for method, path, operation in operations(document):
            if method not in WRITE_METHODS or ("post", path) in NOT_OWNED or prefix == "movies":
                continue
            # then none of them documents a writable owner, status or amount
            bad = writable_properties(document, operation) & FORBIDDEN_FIELDS
            if bad:
                offending.append((method.upper(), path, sorted(bad)))
    assert offending == []


def claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_smuggled_owner_status_and_amount_are_ignored(system, owners):
    # given alice, bob, and a fresh showtime
    alice, bob = register("smuggler"), owners["bob"]["client"]
    showtime = system.showtime()

    # when alice books with fields that would make the booking bob's, confirmed and cheap
    created = alice.post(
        "/api/bookings/",
        {
            "showtime_id": showtime,
            "seats": ["J1"],
            "payment_method": "pm_card_chargeDeclined",
            "user": bob.user_id,
            "user_id": bob.user_id,
            "status": "confirmed",
            "total_amount": "0.01",
            "amount": "0.01",
        },
    )

    # then it is alice's, pending, at the real price, and bob cannot see it
    assert created.status == 201, created
    assert (created.body["status"], created.body["total_amount"]) == ("pending", "12.50")
    assert bob.get(f"/api/bookings/{created.body['id']}/").status == 404
    assert alice.wait_for_booking(created.body["id"])["status"] == "cancelled"  # the declined card decided

    # when alice tries to make herself staff or somebody else
    patched = alice.patch("/api/auth/me/", {"is_staff": True, "is_superuser": True, "id": str(uuid.uuid4())})

    # then her identity and rights are unchanged
    assert patched.status in (200, 400), patched
    me = alice.get("/api/auth/me/")
    assert me.body["id"] == alice.user_id
    assert claims(login(alice.email))["is_staff"] is False

    # when bob marks his notification read with a status of his choosing, then the status is the server's
    owner = owners["bob"]
    before = {n["id"]: n["status"] for n in bob.all_pages("/api/notifications/")}
    marked = bob.post(f"/api/notifications/{owner['notifications']}/read/", {"status": "failed"})
    assert marked.status in (200, 204), marked
    assert {n["id"]: n["status"] for n in bob.all_pages("/api/notifications/")} == before


def test_catalogue_writes_need_staff(system, owners):
    # given a customer and every write operation of the movie service
    customer = owners["alice"]["client"]
    found = []
    for method, path, _ in operations(schema("movies")):
        if method not in WRITE_METHODS:
            continue
        url = _PARAMETER.sub(str(uuid.uuid4()), path)
        # when the customer calls it, then it is forbidden before anything is looked up
        found.append((method.upper(), path, request(method.upper(), url, json_body={}, token=customer.token).status))
    assert found
    assert [case for case in found if case[2] != 403] == []


def test_page_size_is_capped(system):
    # given more than 100 movies
    script = (
        "from movie_service.movies.services import movie_create\n"
        "for i in range(101):\n"
        "    movie_create(title=f'Page cap {i:03}', duration_minutes=90)\n"
    )
    result = system.manage_all("movie", "shell", "-c", script, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]

    # when a client asks for a thousand per page
    reply = request("GET", "/api/movies/?page_size=1000&search=Page+cap")

    # then it gets 100 and a link to the rest
    assert reply.status in (200, 401), reply
    if reply.status == 401:  # the catalogue needs a token
        reply = request("GET", "/api/movies/?page_size=1000&search=Page+cap", token=register("pager").token)
    assert reply.status == 200, reply
    assert reply.body["count"] >= 101
    assert len(reply.body["results"]) == 100
    assert reply.body["next"] is not None


def test_gateway_refuses_large_bodies(system, owners):
    # given alice's bookings
    alice = owners["alice"]["client"]
    before = [b["id"] for b in alice.all_pages("/api/bookings/")]

    # when she sends a 2 MiB booking request
    body = json.dumps({"showtime_id": owners["alice"]["showtime"], "seats": ["A3"], "pad": "x" * (2 << 20)})
    reply = request(
        "POST",
        "/api/bookings/",
        data=body.encode(),
        token=alice.token,
        headers={"Content-Type": "application/json"},
    )

    # then the gateway answers 413 in JSON and nothing was booked
    assert reply.status == 413, reply
    assert reply.body == {"detail": "Request body too large."}
    assert [b["id"] for b in alice.all_pages("/api/bookings/")] == before


@pytest.mark.parametrize(
    ("length", "status", "body"),
    [
        # Past gunicorn's default request line (4094) but inside the gateway's 8k: the service answers.
        (6000, 200, None),
        (9000, 414, {"detail": "Request URI too long."}),
    ],
)
def test_a_long_url_is_answered_in_json(system, length, status, body):
    # when a client searches the catalogue with a very long term
    path = "/api/movies/?search="
    reply = request("GET", path + "x" * (length - len(path)))

    # then the answer is JSON: the service's empty page, or the gateway's 414
    assert reply.status == status, reply
    assert reply.body == (body or {"count": 0, "next": None, "previous": None, "results": []})
