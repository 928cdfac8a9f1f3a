"""``shopkeeper suppliers``, ``po``, ``receive --po`` and ``return-to-supplier`` as a shop uses them."""

from __future__ import annotations

import json


def _json(run, *args):
    code, out, err = run("--json", *args)
    assert code == 0, err
    return json.loads(out)


def test_the_ordering_cycle_from_the_demo_shop_on_the_command_line(run, tmp_path):
    assert run("demo")[0] == 0
    drafted = _json(run, "po", "draft")
    assert drafted and len({d["supplier"] for d in drafted}) == len(drafted)
    assert run("po", "draft")[1].strip() == "nothing new to order"
    order = max(drafted, key=lambda d: len(d["added"]))["order"]
    shown = _json(run, "po", "show", str(order))
    line = shown["lines"][0]
    assert line["item_code"] and line["packs"] >= 1

    code, out, _ = run("po", "send", str(order), "--out", str(tmp_path / "orders"))
    assert code == 0 and "sent" in out
    csv_text = (tmp_path / "orders" / f"po-{order}.csv").read_text()
    assert csv_text.startswith("line,item_code,sku,description,packs,pack_size,quantity,unit,pack_cost,line_total")
    assert line["item_code"] in csv_text

    ordered = line["quantity"]
    got = _json(run, "receive", "--po", str(order), line["sku"], str(ordered))
    assert got["received"] == ordered and got["flag"] == ""
    assert _json(run, "po", "show", str(order))["lines"][0]["outstanding"] == 0

    code, out, err = run("receive", "--po", str(order), line["sku"], "1")
    assert code == 0 and "more than ordered" in err

    status = "received" if len(shown["lines"]) == 1 else "partly_received"
    assert _json(run, "po", "show", str(order))["status"] == status
    assert (order in [o["id"] for o in _json(run, "po", "list", "--status", "open")]) == (status != "received")


def test_suppliers_commands_add_link_show_and_refuse_bad_input(run):
    run("demo")
    code, _, err = run("suppliers", "add", "Fresh Fish", "--email", "nope")
    assert code == 2 and "email" in err
    code, _, err = run("suppliers", "add", "Fresh Fish", "--lead-days", "two")
    assert code == 2 and "--lead-days" in err
    assert run("suppliers", "add", "Fresh Fish", "--lead-days", "2", "--order-days", "tue,fri",
               "--min-order", "80")[0] == 0
    link = _json(run, "suppliers", "link", "OLIVES-KG", "fresh fish", "--code", "FF-1", "--pack", "2.5",
                 "--pack-cost", "30", "--preferred")
    assert (link["preferred"], link["pack_size"], link["pack_cost"]) == (True, 2.5, "30.00")
    shown = _json(run, "suppliers", "show", "Fresh Fish")
    assert shown["order_days"] == "tue,fri" and shown["min_order"] == "80.00"
    assert [p["sku"] for p in shown["products"]] == ["OLIVES-KG"]
    assert run("suppliers", "unlink", "OLIVES-KG", "Fresh Fish")[0] == 0
    assert run("suppliers", "edit", "Fresh Fish", "--inactive")[0] == 0
    assert "Fresh Fish" not in run("suppliers", "list")[1]
    assert "Fresh Fish" in run("suppliers", "list", "--all")[1]
    code, _, err = run("suppliers", "show", "Nobody")
    assert code == 2 and "no supplier" in err


def test_po_editing_and_closing_on_the_command_line(run):
    run("demo")
    new = _json(run, "po", "new", "Hill Farm Dairy")
    n = str(new["id"])
    added = _json(run, "po", "add", n, "MILK-1L", "--packs", "2")
    assert added["lines"][0]["quantity"] == 24
    changed = _json(run, "po", "set", n, "1", "--packs", "3", "--pack-cost", "10.80")
    assert (changed["lines"][0]["quantity"], changed["lines"][0]["unit_cost"]) == (36, "0.90")
    code, _, err = run("po", "set", n, "1")
    assert code == 2 and "nothing to change" in err
    code, _, err = run("receive", "--po", n, "MILK-1L", "1")
    assert code == 2 and "send it first" in err
    run("po", "send", n, "--out", run.db + ".out")
    run("receive", "--po", n, "MILK-1L", "12")
    closed = _json(run, "po", "close", n)
    assert closed["status"] == "received" and closed["lines"][0]["cancelled"] == 24
    code, _, err = run("po", "cancel", n)
    assert code == 2 and "cannot be cancelled" in err
    code, _, err = run("po", "send", n)
    assert code == 2 and "po print" in err
    code, out, _ = run("po", "print", n)
    assert code == 0 and out.startswith(f"Purchase order {n}\nTo: Hill Farm Dairy") and "HF-M1" in out
    code, _, err = run("po", "show", "999")
    assert code == 2 and "no purchase order 999" in err


def test_return_to_supplier_on_the_command_line(run):
    run("demo")
    back = _json(run, "return-to-supplier", "MILK-1L", "2", "--supplier", "Hill Farm Dairy", "--reason", "leaking")
    assert back["unit_cost"] == "0.82"
    journal = _json(run, "journal", "--product", "MILK-1L", "--limit", "1")
    assert (journal[0]["kind"], journal[0]["quantity"], journal[0]["reason"]) == ("supplier_return", -2, "leaking")
    code, _, err = run("return-to-supplier", "MILK-1L", "2", "--reason", "leaking")
    assert code == 2 and "supplier" in err


def test_a_delivery_file_is_received_against_an_order_all_or_nothing(run, tmp_path):
    run("demo")
    n = str(_json(run, "po", "new", "Hill Farm Dairy")["id"])
    run("po", "add", n, "MILK-1L", "--packs", "2")
    run("po", "add", n, "EGGS-6", "--packs", "1")
    run("po", "send", n, "--out", str(tmp_path))
    bad = tmp_path / "bad.csv"
    bad.write_text("sku,qty,cost\nMILK-1L,24,\nEGGS-6,ten,\n")
    code, _, err = run("po", "receive", n, "--file", str(bad))
    assert code == 2 and "line 3" in err
    assert _json(run, "po", "show", n)["status"] == "sent"  # nothing was received
    good = tmp_path / "delivery.csv"
    good.write_text("SKU;Qty;Cost\nMILK-1L;24;0,85\n4006381333931;1;\nBUTTER-250;2;\n")
    got = _json(run, "po", "receive", n, "--file", str(good))
    assert [(ln["sku"], ln["flag"]) for ln in got["lines"]] == [("MILK-1L", ""), ("MILK-1L", "over"),
                                                                 ("BUTTER-250", "not_on_order")]
    assert got["status"] == "partly_received" and got["lines"][0]["unit_cost"] == "0.85"
