"""Windows: a contained command runs in a Job object (kernel32 through ctypes, no pywin32).

The job kills every process in it when its last handle closes (JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE):
the sidecar holds that handle, so Stop, the timeout, shutdown and the sidecar's death all end the
whole tree, children included (they join the job when they start). It also caps the number of
processes, the job's committed memory and its CPU time.

Not tested here (the test machines run Linux): the process is put in the job just after it starts,
so in principle it could start a child before that (Python's start-up takes far longer than the
call). Filesystem sandboxing is not done on Windows.
"""

from __future__ import annotations

import sys
from typing import Any

from sage_sidecar.core.processes import Limits

CREATE_NEW_PROCESS_GROUP = 0x00000200

if sys.platform == "win32":
    import ctypes
    from ctypes import wintypes

    _JOB_OBJECT_EXTENDED_LIMIT_INFORMATION_CLASS = 9
    _LIMIT_JOB_TIME = 0x00000004
    _LIMIT_ACTIVE_PROCESS = 0x00000008
    _LIMIT_JOB_MEMORY = 0x00000200
    _LIMIT_DIE_ON_UNHANDLED_EXCEPTION = 0x00000400
    _LIMIT_KILL_ON_JOB_CLOSE = 0x00002000
    _PROCESS_SET_QUOTA = 0x0100
    _PROCESS_TERMINATE = 0x0001

    class _BasicLimits(ctypes.Structure):
        _fields_ = [
            ("PerProcessUserTimeLimit", ctypes.c_int64),
            ("PerJobUserTimeLimit", ctypes.c_int64),
            ("LimitFlags", wintypes.DWORD),
            ("MinimumWorkingSetSize", ctypes.c_size_t),
            ("MaximumWorkingSetSize", ctypes.c_size_t),
            ("ActiveProcessLimit", wintypes.DWORD),
            ("Affinity", ctypes.c_size_t),
            ("PriorityClass", wintypes.DWORD),
            ("SchedulingClass", wintypes.DWORD),
        ]

    class _IoCounters(ctypes.Structure):
        _fields_ = [(name, ctypes.c_uint64) for name in (
            "ReadOperationCount", "WriteOperationCount", "OtherOperationCount",
            "ReadTransferCount", "WriteTransferCount", "OtherTransferCount")]  # fmt: skip

    class _ExtendedLimits(ctypes.Structure):
        _fields_ = [
            ("BasicLimitInformation", _BasicLimits),
            ("IoInfo", _IoCounters),
            ("ProcessMemoryLimit", ctypes.c_size_t),
            ("JobMemoryLimit", ctypes.c_size_t),
            ("PeakProcessMemoryUsed", ctypes.c_size_t),
            ("PeakJobMemoryUsed", ctypes.c_size_t),
        ]

    _kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    # Full signatures: without them ctypes passes a handle as a 32-bit int.
    _kernel32.CreateJobObjectW.argtypes = [wintypes.LPVOID, wintypes.LPCWSTR]
    _kernel32.CreateJobObjectW.restype = wintypes.HANDLE
    _kernel32.SetInformationJobObject.argtypes = [
        wintypes.HANDLE, ctypes.c_int, wintypes.LPVOID, wintypes.DWORD]  # fmt: skip
    _kernel32.SetInformationJobObject.restype = wintypes.BOOL
    _kernel32.OpenProcess.argtypes = [wintypes.DWORD, wintypes.BOOL, wintypes.DWORD]
    _kernel32.OpenProcess.restype = wintypes.HANDLE
    _kernel32.AssignProcessToJobObject.argtypes = [wintypes.HANDLE, wintypes.HANDLE]
    _kernel32.AssignProcessToJobObject.restype = wintypes.BOOL
    _kernel32.TerminateJobObject.argtypes = [wintypes.HANDLE, wintypes.UINT]
    _kernel32.TerminateJobObject.restype = wintypes.BOOL
    _kernel32.TerminateProcess.argtypes = [wintypes.HANDLE, wintypes.UINT]
    _kernel32.TerminateProcess.restype = wintypes.BOOL
    _kernel32.CloseHandle.argtypes = [wintypes.HANDLE]
    _kernel32.CloseHandle.restype = wintypes.BOOL

    def contain(pid: int, limits: Limits) -> Any:
        """Put process `pid` in a new job with `limits`; returns the job's handle."""
        job = _kernel32.CreateJobObjectW(None, None)
        if not job:
            raise ctypes.WinError(ctypes.get_last_error())
        info = _ExtendedLimits()
        info.BasicLimitInformation.LimitFlags = (
            _LIMIT_KILL_ON_JOB_CLOSE | _LIMIT_ACTIVE_PROCESS | _LIMIT_JOB_MEMORY | _LIMIT_JOB_TIME
            | _LIMIT_DIE_ON_UNHANDLED_EXCEPTION
        )  # fmt: skip
        info.BasicLimitInformation.ActiveProcessLimit = limits.processes
        info.BasicLimitInformation.PerJobUserTimeLimit = limits.cpu_seconds * 10_000_000  # 100 ns
        info.JobMemoryLimit = limits.memory_bytes
        ok = _kernel32.SetInformationJobObject(
            job, _JOB_OBJECT_EXTENDED_LIMIT_INFORMATION_CLASS, ctypes.byref(info),
            ctypes.sizeof(info),
        )  # fmt: skip
        process = _kernel32.OpenProcess(_PROCESS_SET_QUOTA | _PROCESS_TERMINATE, False, pid)
        if not ok or not process or not _kernel32.AssignProcessToJobObject(job, process):
            error = ctypes.WinError(ctypes.get_last_error())
            if process:
                _kernel32.TerminateProcess(process, 1)
                _kernel32.CloseHandle(process)
            _kernel32.CloseHandle(job)
            raise error
        _kernel32.CloseHandle(process)
        return job

    def terminate(job: Any) -> None:
        """Kill every process in the job and close it."""
        _kernel32.TerminateJobObject(job, 1)
        _kernel32.CloseHandle(job)

else:

    def contain(pid: int, limits: Limits) -> Any:
        raise NotImplementedError("Job objects exist only on Windows")

    def terminate(job: Any) -> None:
        raise NotImplementedError("Job objects exist only on Windows")
