"""Absolute links for e-mails and calendar files: the one place that knows the public address.

``BASE_URL`` names it where it is set (production must set it: ``app/config.py`` refuses to
start without it there). Without it, a request links to the address it was sent to
(``request.host_url``, behind ``PROXY_COUNT`` trusted proxies their forwarded host), so the demo
links to whatever port it runs on; a CLI job without a request (reminders, the confirmation of
an account change) links to ``http://127.0.0.1:<PORT>``, the port ``make run`` exports.
"""

from flask import current_app, has_request_context, request


def base_url() -> str:
    configured = (current_app.config.get("BASE_URL") or "").strip()
    if configured:
        return configured.rstrip("/")
    if has_request_context():
        return request.host_url.rstrip("/")
    return f"http://127.0.0.1:{current_app.config['PORT']}"


def external_url(endpoint: str, **values) -> str:
    """The absolute address of ``endpoint``, in requests and in CLI commands alike."""
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return base_url() + path
