"""The heading names the configured province (organisation.name), not Phú Yên whatever is configured."""

from __future__ import annotations

from flask.testing import FlaskClient

from mailadmin import create_app
from tests.conftest import RunningDirectory, make_settings


def test_the_heading_follows_the_organisation_settings(directory: RunningDirectory) -> None:
    settings = make_settings(directory.settings.state_dir, MAILADMIN_SLAPD_PORT=str(directory.settings.slapd.port),
                             MAILADMIN_ORGANISATION_NAME="tỉnh Đắk Lắk",
                             MAILADMIN_ORGANISATION_NAME_EN="Đắk Lắk province")
    app = create_app({"TESTING": True}, settings=settings)
    try:
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        assert "Thư điện tử công vụ tỉnh Đắk Lắk" in page and "Phú Yên" not in page
        client.get("/lang/en")
        english = client.get("/login").get_data(as_text=True)
        assert "Đắk Lắk province official mail" in english and "Phú Yên" not in english
    finally:
        app.extensions["mailadmin"].close()


def test_phu_yen_stays_the_default(client: FlaskClient) -> None:
    assert "Thư điện tử công vụ tỉnh Phú Yên" in client.get("/login").get_data(as_text=True)
