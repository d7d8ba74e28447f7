"""The other teams' benchmark scripts (bench/bench_*.py), run in their own process, and features not built yet."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from typing import Any

from .common import ROOT, Ctx, Result


def bench_script(
    name: str,
    label: str,
    group: str,
    target: str,
    parse: Callable[[str, Result], list[Result]] | None = None,
    args: list[str] | None = None,
) -> Callable[..., list[Result]]:
    """Run bench/<name>.py (written with the feature it measures) with `args` and keep what it prints."""

    def run(ctx: Ctx | None = None, **_: Any) -> list[Result]:
        path = ROOT / "bench" / f"{name}.py"
        result = Result(label, group, target, unit="")
        if not path.exists():
            result.status, result.note = "skipped", f"not built yet (bench/{name}.py doesn't exist)"
            return [result]
        proc = subprocess.run(
            [sys.executable, str(path), *(args or [])], cwd=ROOT, capture_output=True, text=True, timeout=1800
        )
        result.extra = {"stdout": proc.stdout[-6000:], "stderr": proc.stderr[-3000:], "returncode": proc.returncode}
        result.status = "ok" if proc.returncode == 0 else "error"
        result.correct = proc.returncode == 0
        result.note = f"as printed by bench/{name}.py, which checks its own output"
        if parse is not None and proc.returncode == 0:
            try:
                return [result, *parse(proc.stdout, result)]
            except (ValueError, IndexError):
                result.note += " (figures not parsed)"
        return [result]

    return run


def _parse_pdf(out: str, script: Result) -> list[Result]:
    figures = []
    for size, limit in ((1, 50.0), (10, 400.0)):
        m = re.search(rf"\b{size}-ticket order: median\s+([\d.]+) ms, p95\s+([\d.]+) ms", out)
        if m is None:
            raise ValueError(size)
        r = Result(f"PDF tickets, {size}-ticket order (warm)", "PDF", f"≤ {limit:g} ms")
        r.median, r.p95 = float(m[1]), float(m[2])
        r.correct, r.samples = True, 1
        r.passed = r.median <= limit
        r.status = "ok" if r.passed else "fail"
        r.note = "median over the script's rounds"
        figures.append(r)
    m = re.search(r"content cache hit\): ([\d.]+) ms", out)
    if m:
        r = Result("PDF tickets, resend of unchanged tickets", "PDF", "renders nothing again")
        r.median, r.correct, r.samples = float(m[1]), True, 1
        r.passed = r.median < 5
        r.status = "ok" if r.passed else "fail"
        figures.append(r)
    script.status, script.passed = "ok", None
    return figures


def _parse_email(out: str, script: Result) -> list[Result]:
    m = re.search(r"→ ([\d.]+) emails/s", out)
    if m is None:
        raise ValueError("emails/s")
    r = Result("ticket emails through one Celery worker, 1 ticket each", "email", "≥ 12 emails/s", unit="emails/s")
    r.value, r.correct, r.samples = float(m[1]), True, 1
    r.passed = r.value >= 12
    r.status = "ok" if r.passed else "fail"
    return [r]


def _parse_memory(out: str, script: Result) -> list[Result]:
    m = re.search(r"RSS growth over ([\d,]+) renders: (-?[\d.]+) MB \(start ([\d.]+) MB, end ([\d.]+) MB", out)
    if m is None:
        raise ValueError("RSS growth")
    renders = int(m[1].replace(",", ""))
    r = Result(f"worker memory over {renders:,} PDF renders", "PDF", "RSS growth < 50 MB", unit="MB")
    r.value, r.correct, r.samples = float(m[2]), True, renders
    r.passed = r.value < 50
    r.status = "ok" if r.passed else "fail"
    r.note = f"RSS {m[3]} MB after warm-up → {m[4]} MB; PDF text checked every {min(500, max(1, renders // 4))} renders"
    r.extra["rss_every_1000"] = re.findall(r"after\s+([\d,]+) renders: RSS\s+([\d.]+) MB", out)
    script.status, script.passed = "ok", None
    return [r]


def _parse_import(out: str, script: Result) -> list[Result]:
    m = re.search(r"preview \+ import of ([\d,]+) rows: ([\d.]+) s", out)
    if m is None:
        raise ValueError("preview + import")
    rows = m[1]
    r = Result(f"import of {rows} order rows: preview + import", "import", "< 60 s", unit="s")
    r.value, r.correct, r.samples = float(m[2]), "status done" in out, 1
    r.passed = bool(r.correct) and r.value < 60
    r.status = "ok" if r.passed else "fail"
    r.note = " · ".join(line.strip() for line in out.splitlines() if line.startswith(("preview:", "import:")))
    script.status, script.passed = "ok", None
    return [r]


bench_pdf = bench_script("bench_pdf", "bench/bench_pdf.py", "PDF", "its own checks", _parse_pdf)
bench_email = bench_script("bench_email", "bench/bench_email.py", "email", "its own checks", _parse_email)
bench_import = bench_script("bench_import", "bench/bench_import.py", "import", "its own checks", _parse_import)


def bench_pdf_memory(ctx: Ctx | None = None, *, renders: int = 10_000, **_: Any) -> list[Result]:
    """bench/bench_memory.py: one warm process renders `renders` distinct PDFs; RSS start → end."""
    args = ["--renders", str(renders), "--every", str(max(1, min(1000, renders // 10)))]
    args += ["--check-every", str(max(1, min(500, renders // 4)))]
    results = bench_script("bench_memory", "bench/bench_memory.py", "PDF", "its own checks", _parse_memory, args)(ctx)
    if len(results) == 2:  # one row, the figure (with the script's output), in place of the script's row
        script, figure = results
        figure.extra["stdout"] = script.extra["stdout"]
        return [figure]
    return results
