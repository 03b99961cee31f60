#!/usr/bin/env python3
"""`evbus connector` signing its PutEvents calls (AWS Signature V4),
checked by `evbus serve --credentials FILE`, which verifies every request.

Usage: connector_sigv4.py PATH/TO/evbus

- keys from the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY);
- a profile of the shared credentials file named by the connector's
  aws.eventbridge.iam.profile.name, with a session token;
- the profile AWS_PROFILE names;
- a wrong secret: the server refuses (InvalidSignatureException), the
  connector stops with that reason (status 1) and commits nothing;
- no credentials at all: unsigned calls are refused
  (MissingAuthenticationTokenException);
- a missing profile is a configuration error (status 64).
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from connector_lib import Env, check, summary  # noqa: E402

EVBUS = sys.argv[1]

SERVER_KEYS = """# keys evbus serve accepts
[tests]
aws_access_key_id = AKIDEVBUSTEST
aws_secret_access_key = evbus-test-secret

[connector]
aws_access_key_id = AKIDCONNECTOR
aws_secret_access_key = connector/secret+key==

[temporary]
aws_access_key_id = ASIATEMPORARY
aws_secret_access_key = temporary-secret
aws_session_token = token/with+chars==
"""

CLIENT_KEYS = """[team]
aws_access_key_id = ASIATEMPORARY
aws_secret_access_key = temporary-secret
aws_session_token = token/with+chars==

[other]
aws_access_key_id = AKIDCONNECTOR
aws_secret_access_key = connector/secret+key==
"""


def main():
    with Env(EVBUS) as env:
        env.start_mock(["signed:1"])
        server_keys = env.path("server-credentials")
        with open(server_keys, "w") as f:
            f.write(SERVER_KEYS)
        client_keys = env.path("client-credentials")
        with open(client_keys, "w") as f:
            f.write(CLIENT_KEYS)
        env.start_serve("--credentials", server_keys)
        env.produce([{"topic": "signed", "key": f"k{i}", "value": json.dumps({"i": i})} for i in range(5)])
        home = env.path("home")  # no ~/.aws there
        os.makedirs(home)
        clean = {"HOME": home, "AWS_SHARED_CREDENTIALS_FILE": client_keys, "AWS_CONFIG_FILE": "/dev/null",
                 "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "",
                 "AWS_PROFILE": ""}
        good = [
            ("envkeys", {}, {"AWS_ACCESS_KEY_ID": "AKIDCONNECTOR",
                             "AWS_SECRET_ACCESS_KEY": "connector/secret+key=="}, "environment"),
            ("profile", {"aws.eventbridge.iam.profile.name": "team"}, {}, "[team]"),
            ("awsprofile", {}, {"AWS_PROFILE": "other"}, "[other]"),
        ]
        runs = []
        for cid, extra, e, source in good:
            url = env.sink(cid)
            props = {**env.base_props(cid, "signed"), **extra}
            runs.append((cid, url, source, env.connector(cid, props, env={**clean, **e})))
        bad = [
            ("wrongkey", {}, {"AWS_ACCESS_KEY_ID": "AKIDCONNECTOR", "AWS_SECRET_ACCESS_KEY": "not-the-secret"},
             "InvalidSignatureException"),
            ("nokeys", {}, {"AWS_SHARED_CREDENTIALS_FILE": env.path("none")}, "MissingAuthenticationToken"),
        ]
        failing = []
        for cid, extra, e, want in bad:
            props = {**env.base_props(cid, "signed"), "aws.eventbridge.retries.max": "1",
                     "aws.eventbridge.retries.delay": "50", **extra}
            failing.append((cid, want, env.connector(cid, props, env={**clean, **e})))
        for cid, url, source, p in runs:
            events, dups = env.drain(url, 5, timeout=40)
            check(len(events) == 5 and dups == 0, f"{cid}: {len(events)} records, {dups} duplicates: "
                                                  f"{env.log_of(p)[-600:]}")
            check(f"signed with the key of" in env.log_of(p) and source in env.log_of(p),
                  f"{cid}: start line does not name {source}: {env.log_of(p)[:400]}")
            check(env.stop(p) == 0, f"{cid}: exit status")
        for cid, want, p in failing:
            try:
                rc = p.wait(timeout=40)
            except subprocess.TimeoutExpired:
                rc = None
            log = env.log_of(p)
            check(rc == 1 and want in log and "left uncommitted" in log, f"{cid}: status {rc}: {log[-700:]}")
        # the rejected ones committed nothing: a good key sends all five
        props = {**env.base_props("wrongkey", "signed")}
        url = env.sink("wrongkey")
        p = env.connector("wrongkey", props, env={**clean, "AWS_ACCESS_KEY_ID": "AKIDCONNECTOR",
                                                  "AWS_SECRET_ACCESS_KEY": "connector/secret+key=="}, run=1)
        events, dups = env.drain(url, 5, timeout=40)
        check(len(events) == 5, f"wrongkey, fixed: {len(events)} records")
        env.stop(p)
        # a profile that is not in the file: a configuration error
        props = {**env.base_props("noprofile", "signed"), "aws.eventbridge.iam.profile.name": "absent"}
        r = subprocess.run([EVBUS, "connector", "--config", env.config("noprofile", props), "--check"],
                           capture_output=True, timeout=20, env={**os.environ, **clean})
        check(r.returncode == 64 and b"AWS profile 'absent' is not in" in r.stderr,
              f"missing profile: {r.returncode} {r.stderr!r}")
    return summary()


if __name__ == "__main__":
    sys.exit(main())
