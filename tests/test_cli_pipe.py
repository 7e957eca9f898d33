"""`rag ... | head`: a reader that stops early ends the command quietly, as it ends other tools."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_a_closed_pipe_ends_the_command_without_a_traceback(tmp_path):
    env = {**os.environ, "RAG_HOME": str(tmp_path / "home")}
    # The reading end is closed before the command has started, so whatever it prints meets a closed pipe.
    proc = subprocess.Popen([sys.executable, "-m", "ui.cli", "settings"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(60) == 141  # 128 + SIGPIPE, as a shell reports a tool stopped by the pipe
    assert err == ""  # no BrokenPipeError traceback, nor "Exception ignored" at exit
