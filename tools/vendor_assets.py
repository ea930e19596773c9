"""Fetch the web app's vendored browser scripts from the npm registry, at exact pinned versions.

    python tools/vendor_assets.py            # fetch, verify and copy every pinned package's files
    python tools/vendor_assets.py --check    # exit 1 if a vendored file differs from its pinned package

Each package in :data:`PINS` is fetched with ``npm pack NAME@VERSION`` into a temporary folder. Its tarball
must hash to the integrity string npm reports for it, and that string must be the one pinned here (so a
registry that serves other bytes for the same version is caught); then the listed files are copied out, each
with its licence. ``src/crimestats/web/static/vendor/README.md`` is written from the same pins. The vega and
vega-embed builds and Swagger UI ship in the package (the app serves them as ``/static/vendor/<name>``); no
Vega-Lite compiler does, since the server compiles the charts to Vega (vl-convert). axe-core is for the browser
tests only and goes under ``tests/vendor/``.

Pinned to the Vega and vega-embed major versions that the installed altair names (``altair.VEGA_VERSION``,
``altair.VEGAEMBED_VERSION``) and that vl-convert compiles to; ``tests/test_vendor_assets.py`` fails when they
drift apart.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATIC_VENDOR = ROOT / "src" / "crimestats" / "web" / "static" / "vendor"
TESTS_VENDOR = ROOT / "tests" / "vendor"


@dataclass(frozen=True)
class Pin:
    """One npm package at one version: its integrity string, licence, and which of its files go where."""

    name: str
    version: str
    integrity: str  # sha512, as `npm pack --json` reports it
    licence: str
    files: dict[str, str]  # path inside the tarball's package/ folder → file name in `folder`
    folder: Path
    purpose: str


PINS = [
    Pin(
        "vega",
        "6.4.0",
        "sha512-rHXCq2LpEWCLMjXBEj7hocY9G0/i5TGYRayGGSj06VTF4+l2IG2Z7oeZKCjWbUh/7hTE/mVhbaOPB72wCElh6g==",
        "BSD-3-Clause",
        {"build/vega.min.js": "vega.min.js", "LICENSE": "LICENSE-vega.txt"},
        STATIC_VENDOR,
        "draws the charts (bundles its vega-* modules, BSD-3-Clause, and d3 modules, ISC)",
    ),
    Pin(
        "vega-embed",
        "7.3.0",
        "sha512-wQ8s5GaSzqoKgmRfbRolgBrjE2CP7ZKHXqH7NijxMqPjpdWxSs4Dn8tvp9g0giQvh2cK+3p56sxjWWM0wNngGw==",
        "BSD-3-Clause",
        {"build/vega-embed.min.js": "vega-embed.min.js", "LICENSE": "LICENSE-vega-embed.txt"},
        STATIC_VENDOR,
        "embeds a chart with tooltips and actions (bundles vega-tooltip, vega-themes and vega-interpreter, "
        "BSD-3-Clause; fast-json-patch and json-stringify-pretty-compact, MIT; semver, ISC; tslib, 0BSD)",
    ),
    Pin(
        "swagger-ui-dist",
        "5.35.0",
        "sha512-U06rpMtW9V3XPGOBeamTUSr0Z09jMX4IJuANpE/EZbAhw0G8CgwrzU4YmXkn/h0wCDNsXdGarTNNHC3sU8yVUQ==",
        "Apache-2.0",
        {
            "swagger-ui-bundle.js": "swagger-ui-bundle.js",
            "swagger-ui.css": "swagger-ui.css",
            "LICENSE": "LICENSE-swagger-ui.txt",
            "NOTICE": "NOTICE-swagger-ui.txt",
            "swagger-ui-bundle.js.LICENSE.txt": "swagger-ui-bundle.js.LICENSE.txt",
        },
        STATIC_VENDOR,
        "the API documentation page for `/openapi.json` (the bundle's own licence notices beside it)",
    ),
    Pin(
        "axe-core",
        "4.14.1",
        "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ==",
        "MPL-2.0",
        {
            "axe.min.js": "axe.min.js",
            "LICENSE": "LICENSE-axe-core.txt",
            "LICENSE-3RD-PARTY.txt": "LICENSE-axe-core-3RD-PARTY.txt",
        },
        TESTS_VENDOR,
        "accessibility checks in the browser tests only; not shipped in the package",
    ),
]


def npm_integrity(tarball: bytes) -> str:
    """The ``sha512-<base64>`` integrity string of a tarball, as npm writes it."""
    return "sha512-" + base64.b64encode(hashlib.sha512(tarball).digest()).decode("ascii")


def fetch(pin: Pin, folder: Path) -> Path:
    """``npm pack`` the pinned package into ``folder``; its tarball, verified against npm's report and the pin."""
    done = subprocess.run(
        ["npm", "pack", f"{pin.name}@{pin.version}", "--json", "--pack-destination", str(folder)],
        check=True,
        capture_output=True,
        text=True,
    )
    [report] = json.loads(done.stdout)
    tarball = Path(folder, report["filename"])
    actual = npm_integrity(tarball.read_bytes())
    if (report["name"], report["version"]) != (pin.name, pin.version):
        raise SystemExit(f"npm packed {report['name']}@{report['version']}, not {pin.name}@{pin.version}")
    if not actual == report["integrity"] == pin.integrity:
        raise SystemExit(
            f"{pin.name}@{pin.version}: integrity mismatch\n  pinned   {pin.integrity}\n"
            f"  npm said {report['integrity']}\n  tarball  {actual}"
        )
    return tarball


def members(pin: Pin, tarball: Path) -> dict[str, bytes]:
    """The pinned files of a package tarball: destination file name → bytes."""
    with tarfile.open(tarball, "r:gz") as archive:
        return {target: _read(archive, f"package/{source}") for source, target in pin.files.items()}


def _read(archive: tarfile.TarFile, name: str) -> bytes:
    extracted = archive.extractfile(name)
    if extracted is None:
        raise SystemExit(f"{name} is not a file in the package")
    return extracted.read()


def readme(files: dict[Path, bytes]) -> str:
    """``static/vendor/README.md``: every pinned package, its version, licence and what it is for, and the
    sha256 of every vendored file (``files``: path → bytes), which ``tests/test_vendor_assets.py`` checks."""
    lines = [
        "# Vendored browser scripts",
        "",
        "Served by `crimestats serve` from the package itself, so no page ever loads a script from another host.",
        "Written by `python tools/vendor_assets.py`, which fetches each package with `npm pack` at the exact",
        "version below and checks its sha512 integrity; do not edit these files by hand. The versions follow the",
        "Vega and vega-embed versions that altair names and vl-convert compiles to (the server compiles every",
        "chart to Vega, so no Vega-Lite compiler is shipped).",
        "",
        "| package | version | licence | files | used for |",
        "| --- | --- | --- | --- | --- |",
    ]
    for pin in PINS:
        where = "" if pin.folder == STATIC_VENDOR else f"`{pin.folder.relative_to(ROOT)}/`: "
        names = ", ".join(f"`{name}`" for name in pin.files.values())
        lines.append(f"| {pin.name} | {pin.version} | {pin.licence} | {where}{names} | {pin.purpose} |")
    lines += ["", "Integrity (sha512, as npm reports it):", ""]
    lines += [f"- {pin.name}@{pin.version}: `{pin.integrity}`" for pin in PINS]
    lines += ["", "Files (sha256):", ""]
    lines += [f"- `{path.relative_to(ROOT)}`: `{hashlib.sha256(data).hexdigest()}`" for path, data in files.items()]
    return "\n".join(lines) + "\n"


def differences(wanted: dict[Path, bytes]) -> list[str]:
    """The vendored files that are missing or differ from the bytes wanted."""
    return [
        str(path.relative_to(ROOT)) for path, data in wanted.items() if not path.is_file() or path.read_bytes() != data
    ]


def wanted_files(folder: Path) -> dict[Path, bytes]:
    """Every vendored file and the README, as the pinned packages make them (fetched into ``folder``)."""
    wanted: dict[Path, bytes] = {}
    for pin in PINS:
        tarball = fetch(pin, folder)
        wanted |= {pin.folder / name: data for name, data in members(pin, tarball).items()}
    return wanted | {STATIC_VENDOR / "README.md": readme(wanted).encode("utf-8")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="only report vendored files that differ")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        wanted = wanted_files(Path(folder))
    changed = differences(wanted)
    if args.check:
        for name in changed:
            print(f"differs from its pinned package: {name}", file=sys.stderr)
        return 1 if changed else 0
    for path, data in wanted.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    print(f"vendored {len(PINS)} packages ({len(changed)} files changed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
