"""Makes and reads session cookies with real Pyramid, for the interop tests.

Reads a JSON list of jobs on stdin and writes a JSON list of results on
stdout, one per job, so that one Python process serves a whole test. Each
job goes through a Pyramid application whose session factory is
``SignedCookieSessionFactory(secret, hashalg=..., salt=...)``: Pyramid
itself signs, verifies and (de)serializes, nothing here does.

Jobs:

``{"op": "make", "secret", "hashalg", "salt", "set": {...},
   "flash": [[queue, message], ...], "csrf": bool, "set_json": text,
   "flash_json": text}``
    A fresh session with those keys, flash messages and (if ``csrf``) a
    CSRF token. ``set_json`` and ``flash_json`` give more keys and
    messages as JSON text (an object, a list of pairs) that Python's
    ``json.loads`` reads, so that integers beyond 64 bits arrive exact,
    which the job's own JSON, read by the Rust side, cannot promise.
    Result: ``{"cookie": value, "csrf_token": token or null}``.

``{"op": "read", "secret", "hashalg", "salt", "cookie": value,
   "csrf_token": token or null, "pop_flash": [queue, ...], "touch": bool}``
    The session Pyramid reads from ``cookie``. Result: ``{"new": bool,
    "state": {...}, "created": float, "accessed": float, "csrf_ok": bool
    or null, "flash": {queue: [messages]}, "cookie": value or null,
    "repr": {key: text}, "flash_repr": {queue: [text]}}``: ``state`` is
    the session before the flash queues were popped, ``csrf_ok`` whether
    Pyramid's ``check_csrf_token`` accepts ``csrf_token`` and ``cookie``
    the value Pyramid writes back (``touch`` calls ``session.changed()``,
    so that Pyramid always writes it). ``repr`` and ``flash_repr`` are
    Python's ``repr`` of each value of ``state`` and of each popped
    message: exact where JSON read on the Rust side is not (an ``int``
    beyond 64 bits is its digits; a ``float`` would show as one).
"""

import json
import sys

from pyramid.config import Configurator
from pyramid.csrf import check_csrf_token
from pyramid.session import SignedCookieSessionFactory
from webob import Request


def app(job, view):
    factory = SignedCookieSessionFactory(
        job["secret"], hashalg=job["hashalg"], salt=job["salt"]
    )
    with Configurator(session_factory=factory) as config:
        config.add_route("job", "/")
        config.add_view(view, route_name="job", renderer="json")
        return config.make_wsgi_app()


def session_cookie(response):
    for header in response.headers.getall("Set-Cookie"):
        name, _, rest = header.partition("=")
        if name == "session":
            return rest.split(";", 1)[0]
    return None


def make(job):
    def view(request):
        session = request.session
        for key, value in job.get("set", {}).items():
            session[key] = value
        for key, value in json.loads(job.get("set_json", "{}")).items():
            session[key] = value
        flashes = job.get("flash", []) + json.loads(job.get("flash_json", "[]"))
        for queue, message in flashes:
            session.flash(message, queue)
        return {"csrf_token": session.new_csrf_token() if job.get("csrf") else None}

    response = Request.blank("/").get_response(app(job, view))
    return {"cookie": session_cookie(response), **response.json}


def read(job):
    def view(request):
        session = request.session
        result = {
            "new": session.new,
            "state": dict(session),
            "created": session.created,
            "accessed": session.accessed,
            "csrf_ok": None,
            "flash": {},
            "repr": {key: repr(value) for key, value in session.items()},
            "flash_repr": {},
        }
        if job.get("csrf_token") is not None:
            result["csrf_ok"] = check_csrf_token(request, raises=False)
        for queue in job.get("pop_flash", []):
            result["flash"][queue] = session.pop_flash(queue)
            result["flash_repr"][queue] = [repr(m) for m in result["flash"][queue]]
        if job.get("touch"):
            session.changed()
        return result

    headers = {"Cookie": "session=" + job["cookie"]}
    if job.get("csrf_token") is not None:
        request = Request.blank("/", headers=headers, POST={"csrf_token": job["csrf_token"]})
    else:
        request = Request.blank("/", headers=headers)
    response = request.get_response(app(job, view))
    return {**response.json, "cookie": session_cookie(response)}


def main():
    jobs = json.load(sys.stdin)
    results = [{"make": make, "read": read}[job["op"]](job) for job in jobs]
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
