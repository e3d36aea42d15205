"""Chinese line breaking (禁则). Placeholder: filled in below."""
from __future__ import annotations

#: A name is marked by these two invisible characters (FIRST STRONG ISOLATE … POP
#: DIRECTIONAL ISOLATE): it is never split across lines, and speech reads its first
#: character as a surname (曾 zeng1, 单 shan4).
NAME_START = "\u2068"
NAME_END = "\u2069"
