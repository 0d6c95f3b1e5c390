"""The AG-UI example in docs/protocol.md runs as written and prints what the doc says."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

DOC = Path(__file__).parents[2] / "docs" / "protocol.md"


def test_the_agui_doc_example_runs_and_prints_the_answer(tmp_path: Path) -> None:
    blocks = [block for block in re.findall(r"```python\n(.*?)```",
                                            DOC.read_text(encoding="utf-8"), re.S)
              if '"/agui"' in block]
    assert len(blocks) == 1
    script = tmp_path / "agui_example.py"
    script.write_text(blocks[0], encoding="utf-8")
    done = subprocess.run([sys.executable, "-W", "error", str(script)], capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].strip() == "RUN_STARTED"
    assert "TEXT_MESSAGE_CONTENT 6*7 = 42" in lines
    assert lines[-1].strip() == "RUN_FINISHED"
