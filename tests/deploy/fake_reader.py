"""Test only: a simulated SAM-V ID-card reader behind a pseudo-terminal, so the installed app
reads an invented demo person's card through its real serial path (config idcard.device
``serial:LINK``). Run inside the test system with the app's own Python:

    python fake_reader.py LINK INFO.json

It places the first demo card at once, writes that card's fields to INFO.json (for the
test to look for them in the journal) and appends ``read`` to INFO.json.log each time the
app has read the card's whole text.
"""
from __future__ import annotations

import json
import os
import select
import sys
import tty

from kiosk.devices.idcard.frames import FrameBuffer, check_frame
from kiosk.devices.idcard.simulator import SimulatedReader
from kiosk.devices.idcard.text import parse_text

READ_TEXT = (0x30, 0x01)


def main() -> None:
    link, info = sys.argv[1], sys.argv[2]
    master, slave = os.openpty()
    tty.setraw(slave)
    os.chmod(os.ttyname(slave), 0o666)
    os.makedirs(os.path.dirname(link), exist_ok=True)
    tmp = link + ".tmp"
    if os.path.lexists(tmp):
        os.unlink(tmp)
    os.symlink(os.ttyname(slave), tmp)
    os.replace(tmp, link)
    reader = SimulatedReader()
    card = parse_text(reader.place(0).text)
    with open(info, "w", encoding="utf-8") as f:
        json.dump({"name": card.name, "id_number": card.id_number, "address": card.address,
                   "birth": card.birth.isoformat()}, f, ensure_ascii=False)
    buf = FrameBuffer()
    while True:
        select.select([master], [], [])
        buf.feed(os.read(master, 4096))
        while (frame := buf.pop_frame()) is not None:
            reply = reader.handle(frame)
            if reply:
                os.write(master, reply)
            if check_frame(frame)[:2] == bytes(READ_TEXT) and reader.state == "read":
                with open(info + ".log", "a", encoding="utf-8") as f:
                    f.write("read\n")


if __name__ == "__main__":
    main()
