"""A real SMTP server for the alert tests (Debian's python3-aiosmtpd) on 127.0.0.1.

It requires STARTTLS (with the certificate and key given) and a login (user and password
given) before it takes mail, prints "ready <port>" once it listens, then one JSON line per
message it takes: the envelope's sender and recipients, whether the session was under TLS
and logged in, and the message as text.

    /usr/bin/python3 smtp_sink.py CERT KEY USER PASSWORD
"""

import json
import logging
import socket
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

cert, key, user, password = sys.argv[1:5]
# aiosmtpd itself sets a deprecated field on every login and warns about it.
logging.getLogger("mail.log").setLevel(logging.ERROR)


class Sink:
    async def handle_DATA(self, server, session, envelope):
        line = {
            "from": envelope.mail_from,
            "to": envelope.rcpt_tos,
            "tls": session.ssl is not None,
            "login": session.authenticated,
            "text": envelope.content.decode("utf-8", "replace"),
        }
        print(json.dumps(line), flush=True)
        return "250 OK"


def authenticator(server, session, envelope, mechanism, auth_data):
    good = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == user.encode()
        and auth_data.password == password.encode()
    )
    return AuthResult(success=good)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
context.load_cert_chain(cert, key)
port = free_port()
controller = Controller(
    Sink(),
    hostname="127.0.0.1",
    port=port,
    tls_context=context,
    require_starttls=True,
    auth_required=True,
    auth_require_tls=True,
    authenticator=authenticator,
)
controller.start()
print(f"ready {port}", flush=True)
# Until the test closes standard input.
sys.stdin.read()
controller.stop()
