"""`quill bench context`: a real run on a small generated project, aider switched off."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

import pytest

from quill.bench.context_bench import KINDS, find_cases, run_context_bench, sample_cases
from quill.bench.project_fetch import fetch_project
from quill.index.service import WorkspaceIndex

FILES = {
    "shop/__init__.py": "",
    "shop/util.py": '''"""Helpers."""


def normalize_price(value):
    cents = round(value * 100)
    return cents / 100


def format_label(name, price):
    text = f"{name}: {price}"
    return text.strip()
''',
    "shop/storage.py": '''"""Where orders are kept."""


class OrderStore:
    def __init__(self):
        self.rows = []

    def persist_order(self, order):
        self.rows.append(order)
        return len(self.rows)

    def fetch_orders(self, customer):
        found = [r for r in self.rows if r.customer == customer]
        return found


def open_store(path):
    store = OrderStore()
    return store
''',
    "shop/pricing.py": '''"""Prices."""


class Discount:
    def __init__(self, rate):
        self.rate = rate

    def apply_discount(self, price):
        reduced = price * (1 - self.rate)
        return reduced


def total_price(items):
    total = sum(items)
    return total
''',
    "shop/checkout.py": '''"""Checkout: uses the other modules every way the benchmark knows."""

import os
import shop.pricing as pricing
from shop import storage
from shop.util import format_label, normalize_price


def local_helper(x):
    y = x + 1
    return y


def checkout(items, customer, path):
    values = []
    subtotal = pricing.total_price(items)
    price = normalize_price(subtotal)
    store = storage.open_store(path)
    discount = pricing.Discount(0.1)
    reduced = discount.apply_discount(price)
    count = store.persist_order(reduced)
    label = format_label(customer, reduced)
    values.append(label)
    extra = local_helper(count)
    where = os.path.join(path, label)
    return label, count, extra, where, values


def history(store, customer):
    orders = store.fetch_orders(customer)
    first = orders[0] if orders else None
    shown = normalize_price(first.total) if first else 0
    return shown
''',
    "shop/report.py": '''"""Reports."""

from shop.pricing import Discount, total_price
from shop.storage import OrderStore


def summary(rows, rate):
    store = OrderStore()
    amount = total_price(rows)
    deal = Discount(rate)
    final = deal.apply_discount(amount)
    stored = store.persist_order(final)
    return final, stored
''',
}

C, R = "shop/checkout.py", "shop/report.py"
EXPECTED = {
    (C, "import", "normalize_price"),
    (C, "import", "format_label"),
    (R, "import", "OrderStore"),
    (R, "import", "total_price"),
    (R, "import", "Discount"),
    (C, "module", "total_price"),
    (C, "module", "open_store"),
    (C, "module", "Discount"),
    (C, "method", "apply_discount"),
    (C, "method", "persist_order"),
    (C, "method", "fetch_orders"),
    (R, "method", "apply_discount"),
    (R, "method", "persist_order"),
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "shop-project"
    for rel, text in FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_cases_of_every_kind_and_nothing_else(project: Path, tmp_path: Path) -> None:
    with WorkspaceIndex(project, tmp_path / "index") as index:
        index.index_all()
        by_kind = find_cases(index)
    found = {(c.path, c.kind, c.name) for cases in by_kind.values() for c in cases}
    assert found == EXPECTED  # no `append`, `join`, `local_helper`, `len`, `sum`, ...
    for cases in by_kind.values():
        for case in cases:
            assert case.target.path != case.path
            assert case.target.signature and case.target.signature.startswith(("def", "class"))
            assert case.source_line.strip().startswith(case.source_line.lstrip()[:3])
            assert case.column == len(case.source_line) - len(case.source_line.lstrip())
    sample = sample_cases(by_kind, 4, random.Random(0))
    assert len(sample) == 4
    assert {c.kind for c in sample} == set(KINDS)  # balanced: one of each, then one more


def test_run_reports_every_kind(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUILL_AIDER_PYTHON", str(tmp_path / "no-such-aider" / "python"))
    out = io.StringIO()
    rc = run_context_bench(
        [str(project)], out, budget=256, max_cases=30, seed=1, cache_dir=tmp_path / "cache"
    )
    text = out.getvalue()
    assert rc == 0, text
    assert "aider:    not measured" in text
    report = json.loads(text.strip().splitlines()[-1])
    overall = report["overall"]
    assert report["aider"]["available"] is False
    assert "aider" not in overall
    for kind in KINDS:
        assert overall["cases"][kind] > 0, kind
    # One case per file and needed definition: `normalize_price` twice in checkout.py is one.
    assert overall["cases"]["total"] == len(EXPECTED)
    for system in ("quill", "baseline"):
        for kind, value in overall[system]["recall"].items():
            assert value is not None and 0.0 <= value <= 1.0, (system, kind)
        assert 0 < overall[system]["mean_tokens"] <= 256
    # Every `from … import` case names its definition in an import line: the baseline has it.
    assert overall["baseline"]["recall"]["import"] == 1.0
    # `pricing.X` after `import shop.pricing as pricing`: the whole module is followed too.
    assert overall["baseline"]["recall"]["module"] == 1.0
    project_report = report["projects"][0]
    assert project_report["quill_ms"]["n"] > 0
    assert project_report["quill_errors"] == 0
    assert set(report["targets_met"]) == {
        "recall overall",
        "recall on method calls",
        "recall - baseline, min",
        "quill/aider recall",
        "assembly p50 ms",
    }
    assert report["targets_met"]["quill/aider recall"] is None


def test_nothing_to_measure_is_a_failure(tmp_path: Path) -> None:
    out = io.StringIO()
    rc = run_context_bench(["not a project"], out, cache_dir=tmp_path / "cache")
    assert rc != 0
    assert out.getvalue().strip().splitlines()[-1] == (
        "quill bench context: no project could be fetched"
    )
    with pytest.raises(ValueError, match="neither a folder nor NAME==VERSION"):
        fetch_project("rich>=13", tmp_path / "cache")
