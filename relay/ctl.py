"""``telework-ctl``: the admin API from the command line, for scripts. Prints JSON (or CSV).

Sign in once with ``telework-ctl --url https://relay:8444 --fingerprint FP login LOGIN`` (the
password comes from ``TELEWORK_ADMIN_PASSWORD`` or a prompt, the TOTP from ``--otp`` or a
prompt); the token is kept in a private (0600) file under the user's config directory until it
expires. ``TELEWORK_ADMIN_URL``, ``TELEWORK_ADMIN_FINGERPRINT`` and ``TELEWORK_ADMIN_TOKEN``
override the file. The relay's certificate is pinned by its SHA-256 fingerprint (as
``telework-relay manage fingerprint`` prints it); nothing is sent before the pin checks out.

Every API route is a command named after it (``telework-ctl list-staff --tenant T``); path
parts, body fields and query parameters are options; ``--body JSON`` gives a whole body (for
policies). ``telework-ctl commands`` lists them.
"""

from __future__ import annotations

import argparse
import getpass
import http.client
import json
import os
import re
import sys
import urllib.parse
from pathlib import Path
from typing import Any

from core.admin_api import API_PREFIX
from core.crypto.certs import parse_fingerprint
from core.crypto.tls import check_pin, pinned_client_context
from core.errors import CryptoError, Error
from relay.admin.routes import ROUTES, Route
from storage.atomic import write_atomically

PROG = "telework-ctl"
ENV_URL = "TELEWORK_ADMIN_URL"
ENV_FINGERPRINT = "TELEWORK_ADMIN_FINGERPRINT"
ENV_TOKEN = "TELEWORK_ADMIN_TOKEN"  # noqa: S105 (the name of a variable)
ENV_PASSWORD = "TELEWORK_ADMIN_PASSWORD"  # noqa: S105 (the name of a variable)
CREDENTIALS_FILE = "admin-credentials.json"
CREDENTIALS_MODE = 0o600
# Seconds to wait for the relay before giving up.
REQUEST_TIMEOUT_S = 30.0
# Largest answer read (an audit CSV of the maximum query is a few tens of MiB).
MAX_RESPONSE_BYTES = 256 * 1024 * 1024
EXIT_API_ERROR = 1
EXIT_USAGE = 2

_PATH_PARAM = re.compile(r"\{(\w+)\}")


class CtlError(Error):
    """A local mistake (no credentials, bad option) explained in one line."""


def config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "telework"


def _load_credentials() -> dict[str, str]:
    path = config_dir() / CREDENTIALS_FILE
    stored: dict[str, str] = {}
    if path.exists():
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            stored = {}
    for key, env in (("url", ENV_URL), ("fingerprint", ENV_FINGERPRINT), ("token", ENV_TOKEN)):
        if os.environ.get(env):
            stored[key] = os.environ[env]
    return stored


def _save_credentials(values: dict[str, str]) -> Path:
    directory = config_dir()
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = directory / CREDENTIALS_FILE
    write_atomically(path, json.dumps(values).encode("utf-8"), mode=CREDENTIALS_MODE)
    return path


class Client:
    """One pinned HTTPS connection per request (scripts make few)."""

    def __init__(self, url: str, fingerprint: str, token: str = "") -> None:
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme != "https" or not parsed.hostname:
            raise CtlError("the admin URL must be https://HOST:PORT")
        self.host, self.port = parsed.hostname, parsed.port or 443
        try:
            self.fingerprint = parse_fingerprint(fingerprint)
        except CryptoError as exc:
            raise CtlError(str(exc)) from None
        self.token = token

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, str, bytes]:
        connection = http.client.HTTPSConnection(
            self.host, self.port, timeout=REQUEST_TIMEOUT_S, context=pinned_client_context()
        )
        try:
            connection.connect()
            assert connection.sock is not None
            check_pin(connection.sock, self.fingerprint)
            headers = {"Accept": "application/json"}
            data = None
            if body is not None:
                data = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
            if self.token:
                headers["Authorization"] = f"Bearer {self.token}"
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            payload = response.read(MAX_RESPONSE_BYTES)
            return response.status, response.getheader("Content-Type", ""), payload
        finally:
            connection.close()


def command_name(route: Route) -> str:
    return route.handler.__name__.replace("_", "-")


def _option(name: str) -> str:
    return "--" + name.replace("_", "-")


def _add_route_command(commands: Any, route: Route) -> None:
    parser = commands.add_parser(command_name(route), help=route.summary)
    for name in _PATH_PARAM.findall(route.path):
        parser.add_argument(_option(name), dest=f"path_{name}", required=True)
    properties = (route.body or {}).get("properties", {})
    for name, schema in properties.items():
        kind = schema.get("type")
        kinds = kind if isinstance(kind, list) else [kind]
        converter: Any = str
        if "integer" in kinds:
            converter = _nullable(int) if "null" in kinds else int
        elif "boolean" in kinds:
            converter = _boolean
        # Absent options stay out of the body altogether (SUPPRESS), so "--cap-bps none" can
        # send an explicit null while leaving the option out sends nothing.
        parser.add_argument(
            _option(name), dest=f"body_{name}", type=converter, default=argparse.SUPPRESS
        )
    if route.body is not None:
        parser.add_argument("--body", help="the whole JSON body (overrides the field options)")
    for param in route.query:
        parser.add_argument(_option(param.name), dest=f"query_{param.name}")
    parser.set_defaults(route=route)


def _boolean(text: str) -> bool:
    if text.lower() in ("true", "yes", "1", "on"):
        return True
    if text.lower() in ("false", "no", "0", "off"):
        return False
    raise argparse.ArgumentTypeError("expected true or false")


def _nullable(convert: Any) -> Any:
    def parse(text: str) -> Any:
        return None if text.lower() in ("none", "null", "") else convert(text)

    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", help=f"admin API, https://HOST:PORT (or ${ENV_URL})")
    parser.add_argument("--fingerprint", help=f"relay certificate SHA-256 (or ${ENV_FINGERPRINT})")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sign_in = commands.add_parser("login", help="sign in and keep the token (0600 file)")
    sign_in.add_argument("login")
    sign_in.add_argument("--otp", help="the TOTP now (prompted if not given)")
    commands.add_parser("commands", help="list the API commands")
    for route in ROUTES:
        if route.auth:
            _add_route_command(commands, route)
    return parser


def _path_for(route: Route, args: argparse.Namespace) -> str:
    def fill(match: re.Match[str]) -> str:
        return urllib.parse.quote(getattr(args, f"path_{match[1]}"), safe="")

    path = _PATH_PARAM.sub(fill, route.path)
    query = {
        p.name: getattr(args, f"query_{p.name}")
        for p in route.query
        if getattr(args, f"query_{p.name}") is not None
    }
    return path + ("?" + urllib.parse.urlencode(query) if query else "")


def _body_for(route: Route, args: argparse.Namespace) -> Any:
    if route.body is None:
        return None
    if args.body is not None:
        try:
            return json.loads(args.body)
        except ValueError:
            raise CtlError("--body is not valid JSON") from None
    given = vars(args)
    return {
        name: given[f"body_{name}"]
        for name in route.body.get("properties", {})
        if f"body_{name}" in given
    }


def _client(args: argparse.Namespace, need_token: bool = True) -> Client:
    stored = _load_credentials()
    url = args.url or stored.get("url")
    fingerprint = args.fingerprint or stored.get("fingerprint")
    if not url or not fingerprint:
        raise CtlError(f"give --url and --fingerprint (or ${ENV_URL}, ${ENV_FINGERPRINT})")
    token = stored.get("token", "") if need_token else ""
    if need_token and not token:
        raise CtlError(f"sign in first: {PROG} login LOGIN (or set ${ENV_TOKEN})")
    return Client(url, fingerprint, token)


def _print_answer(status: int, content_type: str, payload: bytes) -> int:
    text = payload.decode("utf-8", "replace")
    if status >= 400:
        try:
            error = json.loads(text).get("error", text)
        except (ValueError, AttributeError):
            error = text
        print(json.dumps({"status": status, "error": error}, ensure_ascii=False), file=sys.stderr)
        return EXIT_API_ERROR
    if content_type.startswith("application/json"):
        print(json.dumps(json.loads(text), ensure_ascii=False, indent=2))
    elif text:
        sys.stdout.write(text)
    return 0


def _login(args: argparse.Namespace) -> int:
    client = _client(args, need_token=False)
    password = os.environ.get(ENV_PASSWORD) or getpass.getpass("password: ")
    otp = args.otp or input("one-time password (authenticator app): ").strip()
    status, content_type, payload = client.request(
        "POST", f"{API_PREFIX}/login", {"login": args.login, "password": password, "otp": otp}
    )
    if status != 200:
        return _print_answer(status, content_type, payload)
    answer = json.loads(payload)
    path = _save_credentials(
        {
            "url": f"https://{client.host}:{client.port}",
            "fingerprint": client.fingerprint,
            "token": answer["token"],
        }
    )
    shown = {k: v for k, v in answer.items() if k != "token"}
    print(json.dumps({**shown, "credentials_file": str(path)}, ensure_ascii=False, indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "commands":
            for route in ROUTES:
                if route.auth:
                    print(f"{command_name(route):24} {route.method:6} {route.path}")
            return 0
        if args.command == "login":
            return _login(args)
        chosen: Route = args.route
        client = _client(args)
        status, content_type, payload = client.request(
            chosen.method, _path_for(chosen, args), _body_for(chosen, args)
        )
        if chosen.handler.__name__ == "logout" and status < 400:
            stored = _load_credentials()
            stored.pop("token", None)
            _save_credentials(stored)
        return _print_answer(status, content_type, payload)
    except (CtlError, CryptoError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (OSError, http.client.HTTPException) as exc:
        print(f"{PROG}: error: cannot reach the admin API: {type(exc).__name__}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
