"""schemathesis hooks for scripts/schemathesis (loaded through SCHEMATHESIS_HOOKS).

Each hook drops one kind of "schema-valid request rejected" (ST202) failure that no schema can
rule out, named below, and nothing else.

1. Time zones.

The portal document describes a time zone as a string with the shape of an IANA name (a pattern),
not as the list of ~600 names: generated clients turn enum values into identifiers, and
`GMT+0`, `GMT-0` and `GMT0` become the same one (issue 15). So a schema-valid value such as
`Abc/Def` is well formed but names no zone, and the server refuses it, as the document says.

This drops exactly that failure: a "schema-valid request rejected" (ST202)
whose answer is the server's own refusal with `time_zone` as the only field at fault, for a value
that has the documented shape but is not in the tz database. Any other field refused, any other
status, or a real zone refused still fails the run.
"""

import json
import re
import zoneinfo

import schemathesis

TIME_ZONE_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+){0,2}$")
# The tz database's zones, without the names it ships that are not zones (the server refuses
# those, rightly).
KNOWN = zoneinfo.available_timezones() - {"localtime", "Factory", "posixrules", "posix/Factory"}


def _sent_zone(case):
    for container in (case.query, case.body):
        if isinstance(container, dict) and "time_zone" in container:
            return container["time_zone"]
    return None


# 2. Order lines whose validity a schema cannot state: a SKU not stocked at the order's device
#    or not on the order, more than is outstanding (which SKUs a device stocks is data), and one
#    SKU on two lines (JSON Schema's uniqueItems compares whole items, not one property of
#    them). Dropped only when every field at fault is such a line.
ORDER_STATE_MESSAGES = (
    "is not stocked at device",
    "is not on order",
    "are outstanding",
    "is already on lines[",
)

# 3. An `Idempotency-Key` reused with another request. schemathesis sends the parameter's
#    example (or any string) again and again with different bodies and paths; by contract
#    (Stripe's) that is refused with 422 `idempotency_key_reused`, whatever the body.

# 4. A webhook URL refused for where it points: a host that is (or resolves to) a loopback,
#    private, link-local or reserved address (`https://10.0.0.1/`, `https://0/`), or a local
#    name. Which addresses a name resolves to is the network's, not the schema's, to say.


def _problem(response):
    try:
        return json.loads(response.content)
    except ValueError:
        return {}


def _order_state_refusal(problem):
    errors = problem.get("errors") or []
    return (
        problem.get("code") == "validation_failed"
        and errors
        and all(
            re.fullmatch(r"lines\[\d+\]\.(sku|quantity)", e.get("field", ""))
            and any(m in e.get("message", "") for m in ORDER_STATE_MESSAGES)
            for e in errors
        )
    )


@schemathesis.hook
def filter_failure(context, failure, case, response):
    if getattr(failure, "code", None) != "ST202" or response.status_code not in (400, 422):
        return True
    problem = _problem(response)
    if response.status_code == 422 and problem.get("code") == "idempotency_key_reused":
        return False
    if response.status_code == 422 and _order_state_refusal(problem):
        return False
    if response.status_code == 422 and problem.get("code") == "webhook_url_not_allowed":
        return False
    if not KNOWN:
        # Without a zone list nothing can be told apart: drop nothing.
        return True
    zone = _sent_zone(case)
    if not isinstance(zone, str) or not TIME_ZONE_PATTERN.match(zone) or zone in KNOWN:
        return True
    fields = {e.get("field") for e in problem.get("errors") or []}
    expected = "invalid_parameters" if response.status_code == 400 else "validation_failed"
    return not (problem.get("code") == expected and fields == {"time_zone"})
