"""The allocator setting of the batched engine: once per process, and an opt-out."""

from __future__ import annotations

import platform
import subprocess
import sys

from specssb._allocator import keep_freed_memory


def test_the_setting_is_made_once_and_reports_the_same_answer():
    first = keep_freed_memory()
    assert isinstance(first, bool)
    assert keep_freed_memory() is first
    if sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc":
        assert first  # glibc on Linux: the thresholds were set


def test_the_environment_variable_leaves_the_allocator_alone():
    code = "from specssb._allocator import keep_freed_memory; print(keep_freed_memory())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"SPECSSB_KEEP_FREED_MEMORY": "0", "PATH": ""})
    assert out.stdout.strip() == "False"
