"""The viewer page (real headless Chromium) shows the active gesture in its overlay and
re-dispatches gesture events as `vtuber-event` DOM events (docs/gestures.md, docs/websocket.md)."""

from __future__ import annotations

from tests.browser_driver import Browser
from vtuber.rig import AvatarFrame, FrameEvent
from vtuber.sinks.websocket import WebSocketSink


def test_overlay_and_dom_events_follow_gestures(browser: Browser) -> None:
    sink = WebSocketSink("127.0.0.1", 0)
    sink.open()
    try:
        browser("goto", url=sink.url)
        browser(
            "wait",
            js="const v = window.vtuberViewer; return !!(v && v.state.connection === 'connected');",
            timeout=60000,
        )
        browser(
            "eval",
            js="window.__ev = []; window.addEventListener('vtuber-event', "
            "(e) => window.__ev.push(e.detail)); return null;",
        )
        on = (FrameEvent("gesture", "thumbs_up_right", True), FrameEvent("viewer", "sparkle", True))
        sink.send(AvatarFrame(t=1.0, index=1, events=on))
        browser("wait", js="return window.vtuberViewer.state.lastIndex === 1;", timeout=10000)
        state = browser("eval", js="return window.vtuberViewer.state.gestures;")
        assert state == ["thumbs_up_right"]
        text = browser("eval", js="return document.getElementById('gesture').textContent;")
        assert text == "gesture thumbs_up_right"
        # A frame without events keeps the state (the sink sends "active").
        sink.send(AvatarFrame(t=1.04, index=2))
        browser("wait", js="return window.vtuberViewer.state.lastIndex === 2;", timeout=10000)
        assert browser("eval", js="return window.vtuberViewer.state.gestures;") == state
        off = (FrameEvent("gesture", "thumbs_up_right", False),)
        sink.send(AvatarFrame(t=1.08, index=3, events=off))
        browser("wait", js="return window.vtuberViewer.state.lastIndex === 3;", timeout=10000)
        assert browser("eval", js="return window.vtuberViewer.state.gestures;") == []
        assert browser("eval", js="return document.getElementById('gesture').textContent;") == ""
        got = browser("eval", js="return window.__ev;")
        assert got == [
            {"kind": "gesture", "name": "thumbs_up_right", "active": True},
            {"kind": "viewer", "name": "sparkle", "active": True},
            {"kind": "gesture", "name": "thumbs_up_right", "active": False},
        ]
        assert browser("drain")["errors"] == []  # type: ignore[index]
    finally:
        sink.close()
