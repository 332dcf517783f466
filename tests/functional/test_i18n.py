"""The console speaks Japanese by default and English on request."""


def test_the_sign_in_page_is_japanese_by_default(webtest):
    page = webtest.get("/login")
    assert "<html lang=\"ja\">" in page.text
    assert "ECTI にログイン" in page.text
    assert "English" in page.text  # the switch


def switch(webtest, code, **kw):
    token = webtest.get("/login").forms["login"]["csrf_token"].value
    return webtest.post(f"/lang/{code}", {"csrf_token": token}, **kw)


def test_the_language_switch_turns_the_console_english_and_back(webtest):
    switch(webtest, "en", headers={"Referer": "http://localhost/login"}, status=303)
    page = webtest.get("/login")
    assert "Sign in to ECTI" in page.text and "<html lang=\"en\">" in page.text
    switch(webtest, "ja", status=303)
    assert "ECTI にログイン" in webtest.get("/login").text


def test_an_unknown_language_is_404(webtest):
    assert switch(webtest, "fr", expect_errors=True).status_int == 404


def test_a_signed_in_users_language_choice_is_remembered(webtest, login, make_tenant, make_user, db):
    from ecti.tenancy.models import User

    user = make_user(make_tenant(), role="admin")
    token = login(webtest, user)
    webtest.post("/lang/en", {"csrf_token": token}, status=303)
    db.expire_all()
    assert db.get(User, user.id).locale == "en"
    webtest.reset()  # a new browser: no cookie, but the user's choice
    login(webtest, user)
    assert "Users" in webtest.get("/admin/users").text
