"""axe-core from the npm registry, verified, cached, and run in a Playwright page.

The tarball is fetched once into `.cache/axe-core/` (git-ignored) and checked against the sha512 integrity the
registry published for the pinned version, so a tampered mirror or a half-written cache is refused, never run.
`NIA_NPM_REGISTRY` points at a mirror (default https://registry.npmjs.org)."""
from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import tarfile
import urllib.request
from pathlib import Path

AXE_VERSION = "4.14.1"
AXE_INTEGRITY = "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ=="
# WCAG 2.0 and 2.1, levels A and AA (axe's tag names), plus axe's best practices (heading order, one <h1>, every
# region in a landmark, unique landmarks, skip-link target...), which go beyond the conformance claim.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
TAGS = WCAG_TAGS + ["best-practice"]
# Best practices we do not follow, each with its reason:
#  - empty-table-header: a two-way table's top-left corner cell has no header to give; Markdown (course content)
#    can only write it as an empty <th>. WCAG's own table techniques (H51, H63) do not ask for one.
DISABLED_RULES = {"empty-table-header": {"enabled": False}}
REPO = Path(__file__).resolve().parents[2]
CACHE_DIR = REPO / ".cache" / "axe-core"


class AxeUnavailable(Exception):
    """The registry could not be reached (no network, mirror down): the caller decides skip or fail."""


class IntegrityError(Exception):
    """The bytes are not the pinned release: never run them."""


def integrity_of(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def tarball_url(version: str = AXE_VERSION) -> str:
    registry = os.environ.get("NIA_NPM_REGISTRY", "https://registry.npmjs.org").rstrip("/")
    return f"{registry}/axe-core/-/axe-core-{version}.tgz"


def _download(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 - a fixed https registry URL
            return response.read()
    except OSError as error:  # URLError, timeouts, DNS failures
        raise AxeUnavailable(f"cannot download {url}: {error}") from None


def script_from_tarball(data: bytes, expected: str = AXE_INTEGRITY) -> str:
    """The browser build (package/axe.min.js) out of a verified npm tarball."""
    found = integrity_of(data)
    if found != expected:
        raise IntegrityError(f"axe-core tarball integrity {found} does not match the pinned {expected}")
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        member = archive.extractfile("package/axe.min.js")
        if member is None:
            raise IntegrityError("axe-core tarball has no package/axe.min.js")
        return member.read().decode("utf-8")


def load_axe_source(cache_dir: Path = CACHE_DIR, fetch=_download) -> str:
    """Cached tarball if it still verifies, else a fresh download (verified before it is cached)."""
    cached = cache_dir / f"axe-core-{AXE_VERSION}.tgz"
    if cached.is_file():
        try:
            return script_from_tarball(cached.read_bytes())
        except (IntegrityError, tarfile.TarError, OSError):
            cached.unlink()  # damaged or tampered: fetch again
    data = fetch(tarball_url())
    script = script_from_tarball(data)
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = cached.with_suffix(".part")
    partial.write_bytes(data)
    partial.replace(cached)
    return script


def run_axe(page, axe_source: str) -> list[dict]:
    """WCAG 2.0/2.1 A+AA (and best-practice) violations on the page as it is now. axe is evaluated, not injected as
    a <script>, so the page's own Content-Security-Policy stays in force and does not decide whether it can run."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source)
    result = page.evaluate(
        """async ([tags, rules]) => {
            const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}, rules,
                                               resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                nodes: v.nodes.map(n => ({target: n.target.join(' '), html: n.html.slice(0, 200),
                                          summary: n.failureSummary}))}));
        }""",
        [TAGS, DISABLED_RULES],
    )
    return result


def describe(violations: list[dict]) -> str:
    """One readable block per rule: id, impact, help and every failing target."""
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']} <{v['helpUrl']}>")
        for node in v["nodes"]:
            lines.append(f"    target: {node['target']}")
            lines.append(f"      html: {node['html']}")
            if node.get("summary"):
                lines.append("      " + node["summary"].replace("\n", "\n      "))
    return "\n".join(lines)


def save_failure(page, artifacts: Path, name: str, violations: list[dict] | None = None) -> Path:
    """A full-page screenshot (and the violations as JSON) under test-artifacts/ for the CI run's record."""
    artifacts.mkdir(parents=True, exist_ok=True)
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:150]
    shot = artifacts / f"{safe}.png"
    try:
        page.screenshot(path=str(shot), full_page=True)
    except Exception as error:  # noqa: BLE001 - a screenshot must never hide the real failure
        shot.with_suffix(".txt").write_text(f"screenshot failed: {error}\n")
    if violations is not None:
        (artifacts / f"{safe}.json").write_text(json.dumps(violations, indent=1, ensure_ascii=False))
    return shot
