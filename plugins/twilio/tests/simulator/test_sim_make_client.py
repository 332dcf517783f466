"""ecti_twilio.rest.make_client: a real twilio Client aimed at another base URL."""
from twilio.http.http_client import TwilioHttpClient

from ecti_twilio.rest import RedirectingHttpClient, make_client


def test_rewrites_scheme_and_host_of_every_twilio_domain():
    http = RedirectingHttpClient("http://127.0.0.1:4010")
    assert http.rewrite("https://api.twilio.com/2010-04-01/Accounts/AC1/Calls.json?Page=1") == \
        "http://127.0.0.1:4010/2010-04-01/Accounts/AC1/Calls.json?Page=1"
    assert http.rewrite("https://iam.twilio.com/v1/Keys") == "http://127.0.0.1:4010/v1/Keys"
    assert RedirectingHttpClient("http://sim.local/twilio/").rewrite(
        "https://api.twilio.com/2010-04-01/x") == "http://sim.local/twilio/2010-04-01/x"


def test_without_a_base_url_the_client_talks_to_twilio():
    client = make_client("AC" + "1" * 32, "token")
    assert client.http_client is None or type(client.http_client) is TwilioHttpClient
    assert client.username == "AC" + "1" * 32


def test_api_key_authentication():
    client = make_client("AC" + "1" * 32, "secret", "http://127.0.0.1:4010",
                         username="SK" + "2" * 32)
    assert (client.username, client.password, client.account_sid) == (
        "SK" + "2" * 32, "secret", "AC" + "1" * 32)
    assert isinstance(client.http_client, RedirectingHttpClient)
