"""Every POST route of the web admin refuses a form without its CSRF token (round 5): the routes added last round
(bulk resume and undo, token revocations, second factor disable and reset, reorganisation upload, confirm and
undo) and whatever comes next, read from the app's own URL map. Only the token-authenticated API is exempt."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from mailadmin.model import Unit
from mailadmin.wiring import Services

ARGUMENTS = {"uid": "{uid}", "job_id": "20261201-120000-abcdef", "code": "{unit}", "action": "suspend"}
EXEMPT = re.compile(r"^/api/")


def post_paths(app: Flask) -> list[str]:
    """Every POST rule with its arguments filled in."""
    paths = []
    for rule in app.url_map.iter_rules():
        if "POST" in (rule.methods or ()) and not EXEMPT.match(rule.rule):
            paths.append(re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: ARGUMENTS.get(m.group(1), "x"), rule.rule))
    return sorted(set(paths))


def audit_size(services: Services) -> int:
    return services.audit.path.stat().st_size if services.audit.path.exists() else 0


def test_every_post_route_refuses_a_form_without_its_csrf_token(app: Flask, admin_client: FlaskClient,
                                                                 services: Services, person: Callable[..., str],
                                                                 unit: Unit) -> None:
    uid = person("Hồ Văn Không Mã Biểu Mẫu", unit)
    paths = [path.format(uid=uid, unit=unit.code) for path in post_paths(app)]
    assert len(paths) > 20 and "/mailboxes/bulk/20261201-120000-abcdef/resume" in paths
    audited = audit_size(services)
    answers = {path: admin_client.post(path, data={"uid": uid, "action": "suspend", "code": "123456"})
               for path in paths}
    # A login form sent again by someone already logged in goes on to the home page (web/auth.py, stale_form):
    # it logs nobody in and changes nothing, as the audit check below shows.
    assert answers.pop("/login").headers.get("Location") == "/"
    accepted = [(path, answer.status_code) for path, answer in answers.items() if answer.status_code != 400]
    assert accepted == []
    assert admin_client.get("/me").status_code == 200  # still logged in: /logout refused too
    assert audit_size(services) == audited  # nothing was done
