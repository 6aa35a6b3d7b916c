"""schemathesis hooks for scripts/schemathesis (loaded through SCHEMATHESIS_HOOKS).

The portal document describes a time zone as a string with the shape of an IANA name (a pattern),
not as the list of ~600 names: generated clients turn enum values into identifiers, and
`GMT+0`, `GMT-0` and `GMT0` become the same one (issue 15). So a schema-valid value such as
`Abc/Def` is well formed but names no zone, and the server refuses it, as the document says.

This drops exactly that failure and nothing else: a "schema-valid request rejected" (ST202)
whose answer is the server's own refusal with `time_zone` as the only field at fault, for a value
that has the documented shape but is not in the tz database. Any other field refused, any other
status, or a real zone refused still fails the run.
"""

import json
import re
import zoneinfo

import schemathesis

TIME_ZONE_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+){0,2}$")
KNOWN = zoneinfo.available_timezones()


def _sent_zone(case):
    for container in (case.query, case.body):
        if isinstance(container, dict) and "time_zone" in container:
            return container["time_zone"]
    return None


@schemathesis.hook
def filter_failure(context, failure, case, response):
    if getattr(failure, "code", None) != "ST202" or response.status_code not in (400, 422):
        return True
    zone = _sent_zone(case)
    if not isinstance(zone, str) or not TIME_ZONE_PATTERN.match(zone) or zone in KNOWN:
        return True
    try:
        problem = json.loads(response.content)
    except ValueError:
        return True
    fields = {e.get("field") for e in problem.get("errors") or []}
    expected = "invalid_parameters" if response.status_code == 400 else "validation_failed"
    return not (problem.get("code") == expected and fields == {"time_zone"})
