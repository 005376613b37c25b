"""Two baselines: fixed JSON (the framework floor) and the seat hold's SQL alone (seat_hold.sql)."""

from __future__ import annotations

import random
import re
from pathlib import Path

from django.db import connection, transaction
from django.http import HttpResponseNotAllowed, JsonResponse
from django.views.decorators.csrf import csrf_exempt

FIXED = {"status": "ok", "seats": [{"label": f"A{n}", "status": "available"} for n in range(1, 11)]}

# The statements of seat_hold.sql between BEGIN and COMMIT, with pgbench's :variables as parameters.
_SCRIPT = (Path(__file__).parent / "seat_hold.sql").read_text()
_STATEMENTS = [
    re.sub(r":(showtime|row)\b", r"%(\1)s", line.rstrip(";"))
    for line in _SCRIPT.splitlines()
    if line.strip() and not line.startswith(("--", "\\")) and line.strip() not in ("BEGIN;", "COMMIT;")
]


def floor(request):
    return JsonResponse(FIXED)


@csrf_exempt
def hold(request):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    params = {"showtime": random.randint(1, 10_000), "row": random.randint(1, 9_999_999)}
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in _STATEMENTS:
            cursor.execute(statement, params)
    return JsonResponse({"status": "held"}, status=201)
