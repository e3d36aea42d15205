"""The notify protocol as systemd receives it: a real datagram socket, by path and abstract."""
from __future__ import annotations

import os
import socket
import uuid

import pytest

from kiosk.services import systemd
from kiosk.version import installed_version, status_line, version_from_status


@pytest.fixture(params=["path", "abstract"])
def notify_socket(request, tmp_path, monkeypatch):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    if request.param == "path":
        addr = str(tmp_path / "notify")
        s.bind(addr)
        monkeypatch.setenv("NOTIFY_SOCKET", addr)
    else:
        name = f"kiosk-test-{uuid.uuid4().hex}"
        s.bind("\0" + name)
        monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
    s.settimeout(5)
    yield s
    s.close()


def test_ready_ping_status_stopping(notify_socket):
    assert systemd.ready() is True
    msg = notify_socket.recv(4096).decode()
    assert msg.split("\n") == ["READY=1", f"STATUS=cunwu-kiosk {installed_version()} 运行中"]
    assert systemd.ping() is True
    assert notify_socket.recv(4096) == b"WATCHDOG=1"
    assert systemd.status("首页") is True
    assert notify_socket.recv(4096).decode() == "STATUS=首页"
    assert systemd.stopping() is True
    assert notify_socket.recv(4096) == b"STOPPING=1"


def test_outside_systemd_nothing_happens(monkeypatch):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert systemd.ready() is False and systemd.ping() is False
    monkeypatch.setenv("NOTIFY_SOCKET", "relative/path")
    assert systemd.ping() is False


def test_socket_gone_is_logged_not_raised(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "nobody-listens"))
    assert systemd.ping() is False
    assert "cannot notify systemd" in caplog.text


def test_watchdog_interval(monkeypatch):
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    assert systemd.watchdog_interval() is None
    monkeypatch.setenv("WATCHDOG_USEC", "30000000")
    assert systemd.watchdog_interval() == 15.0
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    assert systemd.watchdog_interval() == 15.0
    monkeypatch.setenv("WATCHDOG_PID", "1")  # meant for another process
    assert systemd.watchdog_interval() is None
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    monkeypatch.setenv("WATCHDOG_USEC", "soon")
    assert systemd.watchdog_interval() is None


def test_status_line_round_trip():
    assert version_from_status(status_line(version="0.2.1")) == "0.2.1"
    assert version_from_status("cunwu-kiosk 1.0.0rc1 暂停服务") == "1.0.0rc1"
    assert version_from_status("something else 0.2.1") is None
    assert version_from_status("") is None and version_from_status(None) is None
