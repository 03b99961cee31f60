"""boto3 against `evbus serve`: connections and API destinations with the
modelled exception classes, NextToken pagination, and secrets never answered.

    python3 apidest_api_test.py http://127.0.0.1:PORT
"""
import json
import sys

import boto3
import botocore.config

SECRETS = ("PyS3cret", "PyKey", "PyClientSecret")


def main():
    ev = boto3.client(
        "events", endpoint_url=sys.argv[1], region_name="us-east-1",
        aws_access_key_id="AKIDEVBUSTEST", aws_secret_access_key="x",
        config=botocore.config.Config(retries={"max_attempts": 1},
                                      connect_timeout=10, read_timeout=10))

    def clean(resp):
        text = json.dumps(resp, default=str)
        for s in SECRETS:
            assert s not in text, "secret %s answered: %s" % (s, text)

    arns = []
    for i in range(5):
        r = ev.create_connection(
            Name="py%d" % i, AuthorizationType="BASIC",
            AuthParameters={"BasicAuthParameters": {"Username": "u",
                                                    "Password": "PyS3cret"}})
        clean(r)
        assert r["ConnectionState"] == "AUTHORIZED", r
        arns.append(r["ConnectionArn"])
    r = ev.create_connection(
        Name="pyo", AuthorizationType="OAUTH_CLIENT_CREDENTIALS",
        AuthParameters={"OAuthParameters": {
            "ClientParameters": {"ClientID": "id",
                                 "ClientSecret": "PyClientSecret"},
            "AuthorizationEndpoint": "https://a.example/token",
            "HttpMethod": "GET",
            "OAuthHttpParameters": {"QueryStringParameters": [
                {"Key": "aud", "Value": "PyKey", "IsValueSecret": True}]}}})
    clean(r)
    d = ev.describe_connection(Name="pyo")
    clean(d)
    assert d["AuthParameters"]["OAuthParameters"]["HttpMethod"] == "GET"
    assert "CreationTime" in d and "SecretArn" in d

    def pages(op, key, **kw):  # botocore has no paginators for these
        names, token = [], None
        for _ in range(20):
            page = op(Limit=2, **({"NextToken": token} if token else {}), **kw)
            clean(page)
            names += [c["Name"] for c in page[key]]
            token = page.get("NextToken")
            if not token:
                return names
        raise AssertionError("pagination does not end")

    names = pages(ev.list_connections, "Connections", NamePrefix="py")
    assert names == ["py0", "py1", "py2", "py3", "py4", "pyo"], names

    try:
        ev.describe_connection(Name="missing")
        raise AssertionError("no error")
    except ev.exceptions.ResourceNotFoundException:
        pass
    try:
        ev.create_connection(Name="py0", AuthorizationType="API_KEY",
                             AuthParameters={"ApiKeyAuthParameters": {
                                 "ApiKeyName": "k", "ApiKeyValue": "PyKey"}})
        raise AssertionError("no error")
    except ev.exceptions.ResourceAlreadyExistsException:
        pass

    for i in range(3):
        r = ev.create_api_destination(
            Name="pyd%d" % i, ConnectionArn=arns[0],
            InvocationEndpoint="https://example.com/*", HttpMethod="POST")
        assert r["ApiDestinationState"] == "ACTIVE"
        assert ":api-destination/pyd%d/" % i in r["ApiDestinationArn"]
    d = ev.describe_api_destination(Name="pyd0")
    assert d["InvocationRateLimitPerSecond"] == 300, d
    names = pages(ev.list_api_destinations, "ApiDestinations",
                  NamePrefix="pyd")
    assert names == ["pyd0", "pyd1", "pyd2"], names
    try:
        ev.describe_api_destination(Name="nope")
        raise AssertionError("no error")
    except ev.exceptions.ResourceNotFoundException:
        pass
    for i in range(3):
        ev.delete_api_destination(Name="pyd%d" % i)
    for n in ["py0", "py1", "py2", "py3", "py4", "pyo"]:
        ev.delete_connection(Name=n)
    print("ok")


if __name__ == "__main__":
    main()
