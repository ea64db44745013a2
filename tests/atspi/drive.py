#!/usr/bin/python3
"""Drives the real Mail Settings window from outside, through its accessibility
tree (AT-SPI), as a screen reader user or a support engineer's tool would: every
control is found by the words on screen, and clicked with the real pointer
(xdotool) at the place AT-SPI says it is — so a control the mouse cannot reach
fails here even when AccessKit could press it.

Usage: drive.py SCREEN_W SCREEN_H. Prints one JSON object with what it saw.
"""
import json
import subprocess
import sys
import time

import pyatspi

SCREEN_W, SCREEN_H = int(sys.argv[1]), int(sys.argv[2])
seen = {"steps": []}


def app():
    deadline = time.time() + 30
    while time.time() < deadline:
        for candidate in pyatspi.Registry.getDesktop(0):
            if candidate is not None and candidate.name == "mailsettings":
                return candidate
        time.sleep(0.2)
    raise SystemExit(json.dumps({"error": "the window never appeared on the accessibility bus"}))


def nodes(root):
    stack = [root]
    while stack:
        node = stack.pop()
        if node is None:
            continue
        yield node
        try:
            stack.extend(node.getChildAtIndex(i) for i in range(node.childCount))
        except Exception:
            pass


def find(role, name, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        for node in nodes(app()):
            try:
                if node.getRoleName() == role and node.name == name:
                    return node
            except Exception:
                pass
        time.sleep(0.2)
    raise SystemExit(json.dumps({**seen, "error": f"no {role} named {name!r}"}))


def click(role, name):
    node = find(role, name)
    box = node.queryComponent().getExtents(pyatspi.DESKTOP_COORDS)
    x, y = box.x + box.width // 2, box.y + box.height // 2
    inside = 0 <= x < SCREEN_W and 0 <= y < SCREEN_H and box.width > 0 and box.height > 0
    seen["steps"].append({"click": name, "x": x, "y": y, "on_screen": inside})
    if not inside:
        raise SystemExit(json.dumps({**seen, "error": f"{name!r} is not on the screen: {box}"}))
    subprocess.run(["xdotool", "mousemove", str(x), str(y), "click", "1"], check=True)
    time.sleep(0.4)


def type_into(name, text):
    click("entry", name)
    subprocess.run(["xdotool", "type", "--delay", "20", text], check=True)
    time.sleep(0.3)


def has(role, name):
    return any(n.getRoleName() == role and n.name == name for n in nodes(app()))


# The welcome, then a Microsoft 365 record, in the guide's words.
click("push button", "Set up a Microsoft 365 mailbox")
seen["credential_first"] = has("label", "Credential Type")
seen["guide_labels"] = all(
    has("label", label)
    for label in ["Server Name", "Default Send as Email", "(From) User Name", "Inbox Folder Name", "Sent Items Folder"]
)
type_into("Description", "Collections (Microsoft 365)")
type_into("Subject Tag", "[AR]")
click("push button", "Save Ctrl+S")
# Required fields left empty: Save says so in the window instead of saving.
seen["save_refused_with_reason"] = any(
    n.getRoleName() == "label" and n.name.startswith("Not saved:") for n in nodes(app())
)
click("toggle button", "Sign-in apps")
seen["sign_in_apps"] = has("label", "Application (client) ID")
print(json.dumps(seen))
