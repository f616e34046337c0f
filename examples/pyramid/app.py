"""The axum example's twin in Pyramid: same routes, same session keys.

Run beside the Rust example with the same secret, and a login on either
app is a login on both (see "Migrating from Pyramid" in the README):

    python3 -m venv .venv && .venv/bin/pip install pyramid==2.1
    SESSION_SECRET=... .venv/bin/python examples/pyramid/app.py

Settings, from the environment: ``SESSION_SECRET`` (required, at least 32
bytes), ``SESSION_HASHALG`` (default ``sha512``), ``PORT`` (default 6543;
0 picks a free port). The app listens on 127.0.0.1 and prints its address.
"""

import html
import os
import sys
from wsgiref.simple_server import WSGIRequestHandler, make_server

from pyramid.config import Configurator
from pyramid.csrf import check_csrf_token
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.response import Response
from pyramid.session import SignedCookieSessionFactory

PASSWORD = "secret"
MAX_USERNAME_CHARS = 64


def page(title, banners, body, status=200):
    return Response(
        f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body><main><h1>{title}</h1>
<p class="served-by">Served by Pyramid</p>
{banners}{body}
</main></body></html>""",
        status=status,
        content_type="text/html",
    )


def banner(kind, message):
    return f'<div class="flash {kind}" role="status">{html.escape(message)}</div>'


def index(request):
    session = request.session
    visits = session.get("visits", 0) + 1
    session["visits"] = visits
    banners = ""
    if "logged_out" in request.GET:
        banners += banner("notice", "You have been logged out.")
    banners += "".join(banner("info", m) for m in session.pop_flash())
    user = session.get("user")
    if user is None:
        account = '<p>You are not signed in. <a href="/login">Log in</a></p>'
    else:
        account = f"""<p>Signed in as <strong>{html.escape(user)}</strong>.</p>
<form method="post" action="/logout">
  <input type="hidden" name="csrf_token" value="{session.get_csrf_token()}">
  <button type="submit">Log out</button>
</form>"""
    times = "time" if visits == 1 else "times"
    return page(
        "Session demo",
        banners,
        f'<p class="counter">You have visited this page <strong>{visits}</strong> {times}.</p>\n'
        + account,
    )


def login_page(request):
    session = request.session
    banners = "".join(banner("error", m) for m in session.pop_flash("error"))
    return page(
        "Log in",
        banners,
        f"""<form method="post" action="/login">
  <input type="hidden" name="csrf_token" value="{session.get_csrf_token()}">
  <label>Username <input name="username" required></label>
  <label>Password <input name="password" type="password" required></label>
  <button type="submit">Log in</button>
</form>""",
    )


def csrf_failure():
    return page(
        "Forbidden",
        banner("error", "Invalid or missing CSRF token."),
        "<p>Nothing was changed.</p>",
        status=403,
    )


def login(request):
    if not check_csrf_token(request, raises=False):
        return csrf_failure()
    session = request.session
    username = request.POST.get("username", "").strip()
    if not username or len(username) > MAX_USERNAME_CHARS:
        session.flash(
            f"Please enter a username of 1 to {MAX_USERNAME_CHARS} characters.", "error"
        )
        return HTTPSeeOther("/login")
    if request.POST.get("password") != PASSWORD:
        session.flash("Wrong username or password.", "error")
        return HTTPSeeOther("/login")
    visits = session.get("visits")
    session.invalidate()
    session["user"] = username
    if visits is not None:
        session["visits"] = visits
    session.flash(f"Welcome, {username}!")
    return HTTPSeeOther("/")


def logout(request):
    if not check_csrf_token(request, raises=False):
        return csrf_failure()
    request.session.invalidate()
    return HTTPSeeOther("/?logged_out=1")


def make_app(secret, hashalg="sha512"):
    # The Rust layer's defaults, spelled out; Pyramid's own defaults are
    # httponly=False and reissue_time=0, which interoperate just as well.
    factory = SignedCookieSessionFactory(
        secret, hashalg=hashalg, httponly=True, timeout=1200, reissue_time=120
    )
    with Configurator(session_factory=factory) as config:
        config.add_route("index", "/")
        config.add_route("login", "/login")
        config.add_route("logout", "/logout")
        config.add_view(index, route_name="index", request_method="GET")
        config.add_view(login_page, route_name="login", request_method="GET")
        config.add_view(login, route_name="login", request_method="POST")
        config.add_view(logout, route_name="logout", request_method="POST")
        return config.make_wsgi_app()


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


def main():
    secret = os.environ.get("SESSION_SECRET", "")
    try:
        secret_bytes = secret.encode("latin-1")  # as Pyramid signs with it
    except UnicodeEncodeError:
        secret_bytes = secret.encode("utf-8")
    if len(secret_bytes) < 32:
        sys.exit("error: set SESSION_SECRET to at least 32 bytes, the same as the Rust app's")
    app = make_app(secret, os.environ.get("SESSION_HASHALG", "sha512"))
    server = make_server("127.0.0.1", int(os.environ.get("PORT", "6543")), app,
                         handler_class=QuietHandler)
    print(f"Listening on http://127.0.0.1:{server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
