"""The Stock API through the client openapi-python-client generates from /api/openapi.json with
its default settings, as a third party would use it: typed models back, a Problem on errors.

Run by scripts/clients with the generated package (part_logic_stock_api_client) on PYTHONPATH,
PARTLOGIC_BASE (the server's root URL) and PARTLOGIC_KEY (a key reaching every demo device of an
account) in the environment.
"""

import datetime
import os
import re
import unittest
import urllib.parse

from part_logic_stock_api_client import AuthenticatedClient, Client
from part_logic_stock_api_client.api.key import get_current_key
from part_logic_stock_api_client.api.status import get_health, ping
from part_logic_stock_api_client.api.stock import list_devices, list_stock, list_stock_alerts
from part_logic_stock_api_client.models import (
    AlertKind,
    ApiDevice,
    DatabaseState,
    Health,
    KeyInfo,
    KeyStatus,
    Ping,
    Problem,
    ProblemCode,
    StockAlert,
    StockRow,
)

BASE = os.environ["PARTLOGIC_BASE"]
KEY = os.environ["PARTLOGIC_KEY"]

NEXT_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')


def client(key: str = KEY) -> AuthenticatedClient:
    return AuthenticatedClient(
        base_url=BASE,
        token=key,
        auth_header_name="X-API-Key",
        prefix="",
        raise_on_unexpected_status=True,
    )


def next_after(link: str | None) -> int | None:
    """The `after` of a `Link: </api/stock?limit=5&after=N>; rel="next"` header (relative)."""
    if not link:
        return None
    match = NEXT_LINK.search(link)
    if match is None:
        return None
    target = urllib.parse.urlsplit(urllib.parse.urljoin(BASE, match.group(1)))
    assert target.path == "/api/stock", link
    (after,) = urllib.parse.parse_qs(target.query)["after"]
    return int(after)


class StockClientTest(unittest.TestCase):
    def setUp(self) -> None:
        self.client = self.enterContext(client())

    def test_ping_and_health_need_no_key(self) -> None:
        anonymous = self.enterContext(Client(base_url=BASE, raise_on_unexpected_status=True))
        pong = ping.sync(client=anonymous)
        self.assertIsInstance(pong, Ping)
        assert isinstance(pong, Ping)
        self.assertTrue(pong.ok)
        self.assertIsInstance(pong.time, datetime.datetime)

        health = get_health.sync(client=anonymous)
        self.assertIsInstance(health, Health)
        assert isinstance(health, Health)
        self.assertTrue(health.ok)
        self.assertIsInstance(health.database, DatabaseState)
        self.assertIsInstance(health.time, datetime.datetime)

    def test_devices(self) -> None:
        devices = list_devices.sync(client=self.client)
        self.assertIsInstance(devices, list)
        assert isinstance(devices, list)
        self.assertTrue(devices, "the key reaches no device")
        for device in devices:
            self.assertIsInstance(device, ApiDevice)
            self.assertGreater(device.id, 0)
            self.assertTrue(device.name)
            self.assertTrue(device.customer)
        ids = [d.id for d in devices]
        self.assertEqual(len(ids), len(set(ids)), "a device listed twice")

    def test_stock_pages_follow_the_link_header(self) -> None:
        c = self.client
        first = list_stock.sync_detailed(client=c, limit=5)
        self.assertEqual(first.status_code, 200)
        rows = first.parsed
        self.assertIsInstance(rows, list)
        assert isinstance(rows, list)
        self.assertEqual(len(rows), 5)
        for row in rows:
            self.assertIsInstance(row, StockRow)
            self.assertTrue(row.sku)
            self.assertTrue(row.device_name)
            self.assertTrue(row.customer)
            self.assertGreater(row.device_id, 0)
            self.assertGreaterEqual(row.max_qty, row.min_qty)
            self.assertGreaterEqual(row.physical, 0)
            self.assertIsInstance(row.updated_at, datetime.datetime)
        first_ids = [r.id for r in rows]
        self.assertEqual(first_ids, sorted(set(first_ids)), "ids of a page not strictly increasing")

        after = next_after(first.headers.get("link"))
        self.assertIsNotNone(after, f"no rel=next Link after a full page: {first.headers.get('link')!r}")
        assert after is not None
        self.assertEqual(after, first_ids[-1])

        second = list_stock.sync_detailed(client=c, limit=5, after=after)
        self.assertEqual(second.status_code, 200)
        more = second.parsed
        self.assertIsInstance(more, list)
        assert isinstance(more, list)
        self.assertTrue(more, "the page the Link header points at is empty")
        for row in more:
            self.assertIsInstance(row, StockRow)
        second_ids = [r.id for r in more]
        self.assertEqual(second_ids, sorted(set(second_ids)))
        self.assertGreater(second_ids[0], first_ids[-1], "pages overlap or go backwards")
        self.assertFalse(set(first_ids) & set(second_ids))

    def test_stock_of_one_device(self) -> None:
        c = self.client
        devices = list_devices.sync(client=c)
        assert isinstance(devices, list) and devices
        device = devices[0]
        rows = list_stock.sync(client=c, device=[device.id], limit=50)
        self.assertIsInstance(rows, list)
        assert isinstance(rows, list)
        self.assertTrue(rows, f"no stock on device {device.id}")
        for row in rows:
            self.assertIsInstance(row, StockRow)
            self.assertEqual(row.device_id, device.id)
            self.assertEqual(row.device_name, device.name)

    def test_alerts(self) -> None:
        alerts = list_stock_alerts.sync(client=self.client, limit=20)
        self.assertIsInstance(alerts, list)
        assert isinstance(alerts, list)
        self.assertTrue(alerts, "the demo data has alerts")
        for alert in alerts:
            self.assertIsInstance(alert, StockAlert)
            self.assertIsInstance(alert.kind, AlertKind)
            self.assertIsInstance(alert.at, datetime.datetime)
            self.assertGreater(alert.stock_id, 0)
            self.assertTrue(alert.sku)

    def test_current_key(self) -> None:
        info = get_current_key.sync(client=self.client)
        self.assertIsInstance(info, KeyInfo)
        assert isinstance(info, KeyInfo)
        self.assertTrue(KEY.startswith(info.prefix), (info.prefix, KEY[:8]))
        self.assertEqual(info.status, KeyStatus.ACTIVE)
        self.assertTrue(info.devices)
        for device in info.devices:
            self.assertIsInstance(device, ApiDevice)
        self.assertIsInstance(info.created_at, datetime.datetime)

    def test_wrong_key_is_a_problem(self) -> None:
        # Not a key at all, and one of a key's shape (pl_ and 49 letters or digits) whose
        # checksum does not match: both are refused with a typed Problem.
        shaped = "pl_" + "A1b2C3d4E5" * 4 + "f6G7h8J9k"
        self.assertEqual(len(shaped), len(KEY))
        for key in ("pl_wrong", shaped):
            with client(key) as wrong:
                response = get_current_key.sync_detailed(client=wrong)
            self.assertEqual(response.status_code, 401)
            problem = response.parsed
            self.assertIsInstance(problem, Problem, response.content)
            assert isinstance(problem, Problem)
            self.assertEqual(problem.status, 401)
            self.assertIsInstance(problem.code, ProblemCode)
            self.assertIn(problem.code, (ProblemCode.MALFORMED_API_KEY, ProblemCode.INVALID_API_KEY))
            self.assertTrue(problem.title)
            self.assertTrue(problem.detail)
            self.assertTrue(response.headers["content-type"].startswith("application/problem+json"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
