"""Pin every container image in llmplatform's pins.json to its digest: `make pin-digests`
(`python -m components.maintenance.pin_digests`).

Each image's tag is resolved at its registry (OCI distribution API: a HEAD of the manifest, anonymous bearer token
when the registry asks for one) and written back as registry/repository:tag@sha256:digest, so Kubernetes runs the
image that was reviewed even if the tag is pushed again. Needs registry access (the offline build machines have
none). All or nothing: the file is rewritten only when every image resolved. Exit codes: 0 done (or, with --check,
every pin current), 1 an image could not be resolved or (--check) a pin is missing or stale, 2 bad usage.
"""
import argparse
import json
import re
import sys
from pathlib import Path
from typing import Callable, Optional

import requests

from llmplatform.pins import ImageRef, parse_image

PINS = Path(__file__).resolve().parent.parent / "llmplatform" / "data" / "pins.json"
# Docker Hub serves its API from another host than the name images carry.
API_HOSTS = {"docker.io": "registry-1.docker.io"}
# An index (multi-architecture) digest where the image has one: the digest every node architecture shares.
ACCEPT = ", ".join([
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
])
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_CHALLENGE = re.compile(r'(\w+)="([^"]*)"')


class DigestError(Exception):
    """One image could not be resolved; the message names it and says why."""


def registry_url(registry: str, mirrors: dict[str, str]) -> str:
    return mirrors.get(registry, f"https://{API_HOSTS.get(registry, registry)}").rstrip("/")


def bearer_token(challenge: str, session: requests.Session, timeout: float) -> str:
    """An anonymous pull token from the realm a 401's `WWW-Authenticate: Bearer realm=...` names."""
    scheme, _, params = challenge.partition(" ")
    fields = dict(_CHALLENGE.findall(params))
    if scheme.lower() != "bearer" or "realm" not in fields:
        raise DigestError(f"the registry asks for {scheme or 'an unknown'} authentication, not an anonymous token")
    answer = session.get(fields.pop("realm"), params=fields, timeout=timeout)
    if answer.status_code != 200:
        raise DigestError(f"the token service answered HTTP {answer.status_code}")
    try:
        body = answer.json()
        return body.get("token") or body["access_token"]
    except (ValueError, KeyError, AttributeError, TypeError):
        raise DigestError("the token service answered without a token") from None


def resolve(ref: ImageRef, session: requests.Session, mirrors: dict[str, str], timeout: float) -> str:
    """The digest the registry serves for ref's tag now."""
    url = f"{registry_url(ref.registry, mirrors)}/v2/{ref.repository}/manifests/{ref.tag}"
    headers = {"Accept": ACCEPT}
    try:
        answer = session.head(url, headers=headers, timeout=timeout, allow_redirects=True)
        if answer.status_code == 401 and "WWW-Authenticate" in answer.headers:
            token = bearer_token(answer.headers["WWW-Authenticate"], session, timeout)
            answer = session.head(url, headers={**headers, "Authorization": f"Bearer {token}"}, timeout=timeout,
                                  allow_redirects=True)
    except requests.exceptions.Timeout:
        raise DigestError(f"{ref.registry} did not answer within {timeout:g} s") from None
    except requests.exceptions.RequestException as error:
        reason = type(error).__name__ if not str(error) else str(error).split(": ", 1)[-1][:200]
        raise DigestError(f"cannot reach {ref.registry} ({reason})") from None
    if answer.status_code == 404:
        raise DigestError(f"{ref.registry} has no tag {ref.tag} of {ref.repository}")
    if answer.status_code != 200:
        raise DigestError(f"{ref.registry} answered HTTP {answer.status_code} for {ref.repository}:{ref.tag}")
    digest = answer.headers.get("Docker-Content-Digest", "")
    if not _DIGEST.match(digest):
        raise DigestError(f"{ref.registry} sent no sha256 Docker-Content-Digest for {ref.repository}:{ref.tag}")
    return digest


def pin_all(images: dict[str, str], resolver: Callable[[ImageRef], str]) -> tuple[dict[str, str], list[str]]:
    """(images pinned to the digest their tag has now, problems); a problem leaves every image as it was."""
    pinned, problems = {}, []
    for key, image in images.items():
        try:
            ref = parse_image(image)
            pinned[key] = str(ImageRef(ref.registry, ref.repository, ref.tag, resolver(ref)))
        except (ValueError, DigestError) as error:
            problems.append(f"{key}: {error}")
    return (images, problems) if problems else (pinned, [])


def mirror(text: str) -> tuple[str, str]:
    registry, sep, url = text.partition("=")
    if not sep or not registry or not url.startswith(("http://", "https://")):
        raise argparse.ArgumentTypeError(f"{text!r} is not REGISTRY=URL (e.g. docker.io=https://mirror.example.com)")
    return registry, url


def positive(text: str) -> float:
    """An argparse type: a finite number of seconds above zero."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} must be a number of seconds above 0")
    return value


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m components.maintenance.pin_digests",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--pins", type=Path, default=PINS, help="the pins file (default: the package's)")
    parser.add_argument("--check", action="store_true", help="change nothing; fail when a pin is missing or stale")
    parser.add_argument("--mirror", type=mirror, action="append", default=[], metavar="REGISTRY=URL",
                        help="reach REGISTRY at URL (a pull-through mirror); repeatable")
    parser.add_argument("--timeout", type=positive, default=20.0, help="seconds per registry request")
    args = parser.parse_args(argv)
    try:
        document = json.loads(args.pins.read_text(encoding="utf-8"))
        images = document["images"]
        if not isinstance(images, dict) or not all(isinstance(v, str) for v in images.values()):
            raise ValueError("'images' is not a mapping of names to image strings")
    except (OSError, ValueError, KeyError, TypeError) as error:
        print(f"pin-digests: cannot read {args.pins}: {error}", file=sys.stderr)
        return 1
    session, mirrors = requests.Session(), dict(args.mirror)
    pinned, problems = pin_all(images, lambda ref: resolve(ref, session, mirrors, args.timeout))
    for problem in problems:
        print(f"pin-digests: {problem}", file=sys.stderr)
    if problems:
        print(f"pin-digests: {args.pins} left unchanged", file=sys.stderr)
        return 1
    stale = [key for key in images if images[key] != pinned[key]]
    for key in images:
        print(f"{'stale ' if key in stale else 'current'}  {key}: {pinned[key]}")
    if args.check:
        return 1 if stale else 0
    if stale:
        document["images"] = pinned
        args.pins.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        print(f"pin-digests: wrote {len(stale)} digest(s) to {args.pins}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
