"""`logquake serve`'s web application: read-only pages over a store, every file through paths.in_store.

Pages: the runs (/), a run (/run/<path>), a file (/files/<path>), a log's tail (/tail/<path>), a run as a
tarball (/tarball/<path>), the verifications (/verify) and a matrix (/verify/<name>), two runs compared
(/compare?a=<path>&b=<path>), and a run followed live (/live/<path>, its events at /events/<path>).
"""

from __future__ import annotations

import asyncio
import math
import os
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response, StreamingResponse
from starlette.routing import Route

from logquake import store
from logquake.serve.compare import compare
from logquake.serve.index import VERDICTS, RunIndex, select
from logquake.serve.live import HistoryTail, event, finished
from logquake.serve.matrices import matrix_page, verifications
from logquake.serve.paths import in_store
from logquake.serve.runfiles import pretty_json, run_files, tail, write_tarball
from logquake.templating import render
from logquake.verify.execute import VERIFY
from logquake.verify.outputs import VERIFY_JSON

_SANDBOXED = {"Content-Security-Policy": "sandbox allow-scripts"}
"""A page from the store (report, timeline, linearizability) runs as an origin of its own: its scripts work, and
none of them can reach the server's pages."""
PAGE_SIZE = 50
LIVE_POLL_S = 0.5


def create_app(store_root: Path) -> Starlette:
    """The application over store_root, with one run index kept for the application's life."""
    pages = Pages(Path(store_root), RunIndex(Path(store_root)))
    routes = [
        Route("/", pages.runs), Route("/run/{path:path}", pages.run), Route("/files/{path:path}", pages.file),
        Route("/tail/{path:path}", pages.tail), Route("/tarball/{path:path}", pages.tarball),
        Route("/verify", pages.verifications), Route("/verify/{name}", pages.matrix),
        Route("/compare", pages.compare), Route("/live/{path:path}", pages.live),
        Route("/events/{path:path}", pages.events), Route("/favicon.ico", _no_icon),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: _error})
    app.state.index = pages.index
    return app


async def _no_icon(request: Request) -> Response:
    """The run's own pages (timeline, linearizability) have no icon link, so a browser asks for this one."""
    return Response(status_code=204)


async def _error(request: Request, error: Exception) -> Response:
    status = error.status_code if isinstance(error, HTTPException) else 500
    return HTMLResponse(render("error.html", status=status, detail=getattr(error, "detail", "")), status_code=status)


class Pages:
    def __init__(self, store_root: Path, index: RunIndex) -> None:
        self.store_root = store_root
        self.index = index

    def _found(self, path: str) -> Path:
        found = in_store(self.store_root, path)
        if found is None:
            raise HTTPException(404, "no such file in the store")
        return found

    def _run_dir(self, path: str) -> Path:
        found = self._found(path)
        if not found.is_dir() or found.parent.parent != self.store_root.resolve():
            raise HTTPException(404, "not a run directory")
        return found

    def _path_of(self, run_dir: Path) -> str:
        return run_dir.relative_to(self.store_root.resolve()).as_posix()

    async def runs(self, request: Request) -> HTMLResponse:
        query = {key: request.query_params.get(key, "")[:200] for key in ("verdict", "workload", "fault", "q")}
        everything = await asyncio.to_thread(self.index.runs)
        selected = select(everything, query["verdict"], query["workload"], query["fault"], query["q"])
        pages = max(1, math.ceil(len(selected) / PAGE_SIZE))
        page = min(max(1, _int(request.query_params.get("page"), 1)), pages)
        return HTMLResponse(render(
            "runs.html", runs=selected[(page - 1) * PAGE_SIZE:page * PAGE_SIZE], total=len(everything),
            matching=len(selected), page=page, pages=pages, query=query, now=time.time(), verdicts=VERDICTS,
            workloads=sorted({run.workload for run in everything if run.workload}),
            faults=sorted({fault for run in everything for fault in run.faults})))

    async def run(self, request: Request) -> HTMLResponse:
        run_dir = self._run_dir(request.path_params["path"])
        path = self._path_of(run_dir)
        summary = next((run for run in await asyncio.to_thread(self.index.runs) if run.path == path), None)
        files = await asyncio.to_thread(run_files, run_dir)
        return HTMLResponse(render(
            "run.html", path=path, run=summary, status=summary.status(time.time()) if summary else "damaged",
            files=files, has_report=(run_dir / store.REPORT).is_file(),
            test=await asyncio.to_thread(pretty_json, run_dir / store.TEST),
            results=await asyncio.to_thread(pretty_json, run_dir / store.RESULTS)))

    async def file(self, request: Request) -> FileResponse:
        found = self._found(request.path_params["path"])
        if not found.is_file():
            raise HTTPException(404, "not a file")
        return FileResponse(found, headers=_SANDBOXED if found.suffix in (".html", ".htm", ".svg") else None)

    async def tail(self, request: Request) -> HTMLResponse:
        path = request.path_params["path"]
        found = self._found(path)
        if not found.is_file():
            raise HTTPException(404, "not a file")
        lines = min(max(1, _int(request.query_params.get("lines"), 200)), 100_000)
        text, more = await asyncio.to_thread(tail, found, lines)
        return HTMLResponse(render("tail.html", path=path, text=text, more=more, lines=lines))

    async def tarball(self, request: Request) -> FileResponse:
        run_dir = self._run_dir(request.path_params["path"])
        descriptor, archive = tempfile.mkstemp(suffix=".tar.gz")
        os.close(descriptor)
        try:
            await asyncio.to_thread(write_tarball, run_dir, Path(archive))
        except BaseException:
            os.unlink(archive)
            raise
        return FileResponse(archive, media_type="application/gzip",
                            filename=f"{run_dir.parent.name}-{run_dir.name}.tar.gz",
                            background=BackgroundTask(os.unlink, archive))

    async def verifications(self, request: Request) -> HTMLResponse:
        return HTMLResponse(render("verifications.html", names=verifications(self.store_root)))

    async def matrix(self, request: Request) -> HTMLResponse:
        directory = self._found(f"{VERIFY}/{request.path_params['name']}")
        if not (directory / VERIFY_JSON).is_file():
            raise HTTPException(404, "not a verification (no verify.json)")
        try:
            page = await asyncio.to_thread(matrix_page, self.store_root, directory)
        except (ValueError, KeyError, TypeError) as error:
            raise HTTPException(404, f"verify.json unreadable: {type(error).__name__}") from None
        return HTMLResponse(render("matrix.html", name=request.path_params["name"], **page))

    async def compare(self, request: Request) -> HTMLResponse:
        paths = [request.query_params.get(key, "") for key in ("a", "b")]
        run_dirs = [self._run_dir(path) for path in paths]
        tests = tuple(_object(run_dir / store.TEST) for run_dir in run_dirs)
        results = tuple(_object(run_dir / store.RESULTS) for run_dir in run_dirs)
        return HTMLResponse(render("compare.html", paths=[self._path_of(d) for d in run_dirs],
                                   sections=compare((tests[0], tests[1]), (results[0], results[1]))))

    async def live(self, request: Request) -> HTMLResponse:
        run_dir = self._run_dir(request.path_params["path"])
        return HTMLResponse(render("live.html", path=self._path_of(run_dir)))

    async def events(self, request: Request) -> StreamingResponse:
        run_dir = self._run_dir(request.path_params["path"])
        return StreamingResponse(_follow(run_dir, request), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache"})


async def _follow(run_dir: Path, request: Request) -> AsyncIterator[str]:
    """Progress events while the history grows, then the verdict once results.json is whole."""
    limit = (await asyncio.to_thread(_object, run_dir / store.TEST)).get("time_limit")
    history = HistoryTail(run_dir / store.HISTORY, limit if isinstance(limit, (int, float)) else None)
    yield event("progress", history.progress())
    while not await request.is_disconnected():
        grew = await asyncio.to_thread(history.advance)
        verdict = await asyncio.to_thread(finished, run_dir)
        if grew or verdict:
            yield event("progress", history.progress())
        if verdict:
            yield event("verdict", verdict)
            return
        await asyncio.sleep(LIVE_POLL_S)


def _object(path: Path) -> dict[str, Any]:
    try:
        data = store.read_json(path)
    except store.StoreError:
        return {}
    return data if isinstance(data, dict) else {}


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default
