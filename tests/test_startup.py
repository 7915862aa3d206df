"""Start-up: deferred modules behave as imported ones, BLAS asked for one thread, start-up objects frozen."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from qrscp.startup import BLAS_THREAD_VARIABLES, UNUSED_BY_CONVERT


def _in_fresh_process(code: str, *, without: tuple[str, ...] = ()) -> dict:
    """Run `code` in a new interpreter (environment variables `without` removed); its last line, as JSON."""
    environment = {name: value for name, value in os.environ.items() if name not in without}
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                            check=False, timeout=120, env=environment)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_deferred_modules_are_not_executed_until_used() -> None:
    report = _in_fresh_process(f"""
        import json, sys
        at_start = set(sys.modules)  # a site .pth file may import some of them before anything else
        from qrscp.startup import defer_imports
        defer_imports({UNUSED_BY_CONVERT!r})
        import qrscp.cli.convert  # imports pydicom, which imports what is deferred
        names = {UNUSED_BY_CONVERT!r}
        lazy = {{name: type(sys.modules[name]).__name__ for name in names
                 if name in sys.modules and name not in at_start}}
        loaded_early = [name for name in ("http.client", "ssl") if name in sys.modules and name not in at_start]
        import urllib.request, PIL.ImageCms
        used = [urllib.request.urlopen.__name__, PIL.ImageCms.ImageCmsTransform.__name__]
        print(json.dumps({{"lazy": lazy, "early": loaded_early, "used": used,
                           "http": "http.client" in sys.modules}}))
    """)
    # pydicom imported them (the names exist) but none of them ran
    assert set(report["lazy"]) >= {"urllib.request", "PIL.ImageCms"}
    assert set(report["lazy"].values()) == {"_LazyModule"}
    assert report["early"] == []
    # first use executes the module as an eager import would
    assert report["used"] == ["urlopen", "ImageCmsTransform"]
    assert report["http"] is True


def test_deferred_module_equals_an_eager_import() -> None:
    code = """
        import json, sys
        {setup}
        import urllib.request
        print(json.dumps(sorted(name for name in vars(urllib.request) if not name.startswith("_"))))
    """
    eager = _in_fresh_process(code.format(setup="pass"))
    deferred = _in_fresh_process(code.format(
        setup=f"from qrscp.startup import defer_imports; defer_imports({UNUSED_BY_CONVERT!r})"))
    assert deferred == eager and "urlopen" in deferred


def test_freeze_exempts_start_up_objects_and_keeps_the_thresholds() -> None:
    report = _in_fresh_process("""
        import gc, json
        threshold = gc.get_threshold()
        before = gc.get_freeze_count()
        from qrscp.startup import freeze_imported_objects
        import qrscp.app
        freeze_imported_objects()
        print(json.dumps({"before": before, "frozen": gc.get_freeze_count(),
                          "same": gc.get_threshold() == threshold, "enabled": gc.isenabled()}))
    """)
    assert report["before"] == 0 and report["frozen"] > 10_000
    assert report["same"] is True and report["enabled"] is True


def test_convert_asks_blas_for_one_thread_unless_told_otherwise() -> None:
    code = """
        import json, os
        from qrscp.startup import single_threaded_blas
        {setup}
        single_threaded_blas()
        import numpy
        print(json.dumps({{"threads": len(os.listdir("/proc/self/task")),
                          "openblas": os.environ["OPENBLAS_NUM_THREADS"]}}))
    """
    limited = _in_fresh_process(code.format(setup="pass"), without=BLAS_THREAD_VARIABLES)
    assert limited == {"threads": 1, "openblas": "1"}
    chosen = _in_fresh_process(code.format(setup="os.environ['OPENBLAS_NUM_THREADS'] = '2'"),
                               without=BLAS_THREAD_VARIABLES)
    assert chosen["openblas"] == "2"
