from web import create_app


def test_health_page_reports_the_database(eng):
    client = create_app({"ENGINE": eng, "TESTING": True}).test_client()
    assert client.get("/healthz").get_json() == {"status": "ok", "database": "ok"}
    assert client.get("/").status_code == 302
