"""Progress bars: at a terminal a bar on stderr, in a log the items alone (no control codes)."""

import os
import pty
import subprocess
import sys

from nerhpo.core.progress import progress

SCRIPT = "from nerhpo.core.progress import progress\nprint(sum(progress(range(5), 'counting')))\n"


def test_without_a_terminal_the_items_pass_through(capsys):
    assert list(progress(iter([3, 1, 2]), "x")) == [3, 1, 2]
    assert capsys.readouterr().err == ""


def test_at_a_terminal_a_bar_is_drawn_and_the_items_are_the_same():
    leader, follower = pty.openpty()
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        stdout=subprocess.PIPE,
        stderr=follower,
        env={**os.environ, "COLUMNS": "80", "TERM": "xterm"},
        timeout=60,
    )
    os.close(follower)
    drawn = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        drawn += chunk
    os.close(leader)
    assert proc.stdout.decode().strip() == "10"
    assert b"counting" in drawn and b"\x1b[" in drawn  # a bar, redrawn with control codes
