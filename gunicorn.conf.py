"""gunicorn's settings for Fallkonferenz, read from the working directory (``make run`` and the
production command name it with ``-c gunicorn.conf.py``).

Responses name no server software: gunicorn writes ``Server: gunicorn`` itself, ahead of the
application's headers and with no setting to turn it off, so that line is dropped here. The
reverse proxy in front (nginx: ``server_tokens off``) should not name its version either.
"""

from gunicorn.http import wsgi

_default_headers = wsgi.Response.default_headers


def _without_server_header(self):
    return [line for line in _default_headers(self) if not line.lower().startswith("server:")]


wsgi.Response.default_headers = _without_server_header
