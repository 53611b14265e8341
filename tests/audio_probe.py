"""Runs one check in this process and prints its result and every progress call as JSON: the
audio rig's child process, so PortAudio reads the rig's ALSA configuration afresh.

    python -m tests.audio_probe CHECK LIMITS_JSON [INPUT_DEVICE]
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from homeagent.client.checks.context import CheckContext, Progress
from homeagent.client.checks.registry import run_check


def main(argv: list[str]) -> int:
    check, limits = argv[0], json.loads(argv[1])
    device = argv[2] if len(argv) > 2 else None
    seen: list[dict[str, Any]] = []
    started = time.monotonic()

    def progress(step: Progress) -> None:
        seen.append(
            {
                "at": time.monotonic() - started,
                "fraction": step.fraction,
                "phase": step.phase,
                "value": step.value,
                "message": step.message.en if step.message else None,
            }
        )

    result = run_check(check, limits, CheckContext(input_device=device, progress=progress))
    print(json.dumps({"result": result.to_json(), "progress": seen}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
