"""The FastAPI application: middleware, static files, the API and the pages, and how refusals are answered."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import make_url
from starlette.middleware.sessions import SessionMiddleware

from wearoff import __version__
from wearoff.records.db import make_engine
from wearoff.web.api import PREFIX, api_router
from wearoff.web.auth import LoginRequiredError
from wearoff.web.database import TokenLookups
from wearoff.web.errors import InvalidInputError, NotAuthenticatedError, ServiceError, ThrottledError
from wearoff.web.headers import SecurityHeaders
from wearoff.web.pages import page_router
from wearoff.web.pages.rendering import render_error
from wearoff.web.services.evidence import EvidenceReport
from wearoff.web.services.forecasts import AdhocForecasts
from wearoff.web.settings import WebSettings

STATIC = Path(__file__).parent / "static"
REQUEST_THREADS = 40
"""Threads anyio runs synchronous routes and dependencies in (its default)."""
SESSION_COOKIE = "wearoff_session"
DESCRIPTION = (
    "Forecasts of how long botulinum toxin treatments last, per patient and area, and the clinic's records. "
    "Decision support for qualified professionals: every forecast carries its 90 % interval. Authenticate with "
    "`Authorization: Bearer <token>` (POST /api/v1/auth/token, or the account page)."
)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith(PREFIX)


def _default_report_dir() -> Path:
    """A cache folder per version of the shipped parameters and stored validation (a new fit, a new report)."""
    import hashlib
    from importlib import resources

    import platformdirs

    digest = hashlib.sha256()
    for name in ("parameters.json", "validation.json"):
        digest.update((resources.files("wearoff.data") / name).read_bytes())
    return Path(platformdirs.user_cache_dir("wearoff")) / f"evidence-{__version__}-{digest.hexdigest()[:12]}"


def create_app(settings: WebSettings) -> FastAPI:
    """The app on ``settings.database_url`` (whose schema must be current: ``wearoff db init``)."""
    # as many connections as request threads (anyio's default limiter: 40), so no request waits for the pool
    in_memory = make_url(settings.database_url).database in (None, "", ":memory:")  # one shared connection
    pool = {} if in_memory else {"pool_size": REQUEST_THREADS // 2, "max_overflow": REQUEST_THREADS // 2}
    engine = make_engine(settings.database_url, **pool)
    tokens = TokenLookups.for_app(settings.database_url, engine, in_memory=in_memory)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        engine.dispose()
        tokens.engine.dispose()

    app = FastAPI(
        lifespan=lifespan,
        title="wearoff clinic API",
        version=__version__,
        description=DESCRIPTION,
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url=f"{PREFIX}/openapi.json",
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.token_lookups = tokens
    app.state.adhoc_forecasts = AdhocForecasts()
    app.state.evidence = EvidenceReport(settings.report_dir or _default_report_dir(), settings.evidence_path)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie=SESSION_COOKIE,
        max_age=int(settings.session_hours * 3600),
        same_site="lax",
        https_only=settings.secure_cookies,
    )

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(api_router())
    app.include_router(page_router())

    @app.exception_handler(LoginRequiredError)
    async def login_required(request: Request, _exc: LoginRequiredError) -> Response:
        target = "/login?next=" + request.url.path
        if request.headers.get("HX-Request"):
            return Response(status_code=401, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(ServiceError)
    async def service_error(request: Request, exc: ServiceError) -> Response:
        headers = {}
        if isinstance(exc, ThrottledError):
            headers["Retry-After"] = str(exc.retry_after)
        if isinstance(exc, NotAuthenticatedError):
            headers["WWW-Authenticate"] = "Bearer"
        if _is_api(request):
            if isinstance(exc, InvalidInputError):
                detail = [
                    {"loc": ["body", p.field] if p.field else ["body"], "msg": p.message, "type": "value_error"}
                    for p in exc.problems
                ]
                return JSONResponse({"detail": detail}, status_code=422)
            return JSONResponse({"detail": exc.message}, status_code=exc.status_code, headers=headers)
        return render_error(request, exc.status_code, exc.message, headers=headers)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def app_from_environment() -> FastAPI:
    """The app configured from the environment (``WEAROFF_DATABASE_URL``, ``WEAROFF_SECRET_KEY``, ...): the
    factory each worker process of ``wearoff serve --workers N`` builds its app with."""
    from wearoff.records.db import database_url

    return freeze_long_lived(create_app(WebSettings(database_url=database_url())))


def freeze_long_lived(app: FastAPI) -> FastAPI:
    """Move every object alive now (the app, the libraries: about 250,000) out of the garbage collector's reach
    for the life of a serving process, and return the app. They live as long as the process anyway; unfrozen, a
    full collection walks them all and pauses whatever request is running for about 130 ms."""
    gc.collect()
    gc.freeze()
    return app
