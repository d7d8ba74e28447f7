"""The browser tests' accessibility check: axe-core (vendored, tests/e2e/vendor/) run on the page as it is now.

Call `assert_accessible(page, "what the page shows")` from any browser test (or take the `assert_accessible`
fixture of tests/e2e/conftest.py) after the page, dialog or menu to check is on screen. It fails on any
violation axe rates serious or critical, listing each rule with its help text and the offending elements.

Besides axe's default rules (WCAG 2.0/2.1/2.2 A and AA, plus best practices), it checks WCAG 2.5.3 "Label in
Name" (a control's accessible name contains its visible label: a screen reader user says what they see): axe's
`label-content-name-mismatch`, shipped experimental and off, is switched on, and `label_in_name_violations`
covers what that rule skips (a <summary>, a <dialog> named by a label its heading contradicts).
Rules: https://dequeuniversity.com/rules/axe/4.14/

Transitions are switched off first (reduced motion, which Bootstrap honours): a button fading back from its
hover colour would otherwise be measured half-way and fail the contrast rule at random.
"""

from __future__ import annotations

import weakref
from pathlib import Path

from playwright.sync_api import Page

AXE_JS = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
# Where the page loads axe from: answered by the browser test itself (page.route), never by the portal.
AXE_URL = "/__browser-tests__/axe.min.js"
_SERVED: weakref.WeakSet[Page] = weakref.WeakSet()


def _serve_axe(page: Page) -> None:
    if page not in _SERVED:
        page.route(f"**{AXE_URL}", lambda route: route.fulfill(path=str(AXE_JS), content_type="text/javascript"))
        _SERVED.add(page)


BLOCKING_IMPACTS = frozenset({"serious", "critical"})
_EXTRA_RULES = {"label-content-name-mismatch": {"enabled": True}}

_RUN = """async ([rules]) => {
  const results = await axe.run(document, {rules, resultTypes: ["violations"]});
  return results.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map(n => ({target: n.target.join(" "), summary: n.failureSummary, html: n.html.slice(0, 200)})),
  }));
}"""


# Controls named by aria-label / aria-labelledby whose name doesn't start with their visible text (WCAG's advice:
# the label first, so "Actions" is what a voice user says and a screen reader user hears first), compared as axe
# does: lower case, symbols (⋯, ›, ×) and punctuation left out, spaces collapsed.
_LABEL_IN_NAME = """() => {
  const words = s => (s || "").toLowerCase().replace(/[^\\p{L}\\p{N}]+/gu, " ").trim();
  const controls = "a[href], button, summary, dialog[open], input[type=submit], input[type=button], [role=button], [role=link]";
  const found = [];
  for (const el of document.querySelectorAll(controls)) {
    if (!el.hasAttribute("aria-label") && !el.hasAttribute("aria-labelledby")) continue;
    if (!el.checkVisibility()) continue;
    const by = (el.getAttribute("aria-labelledby") || "").split(/\\s+/).filter(Boolean);
    const name = by.length ? by.map(id => document.getElementById(id)?.textContent || "").join(" ")
                           : el.getAttribute("aria-label");
    const shown = el.tagName === "DIALOG" ? el.querySelector("h1, h2, h3")?.innerText : (el.innerText || el.value);
    if (words(shown) && !words(name).startsWith(words(shown))) {
      found.push({target: el.tagName.toLowerCase() + (el.id ? "#" + el.id : ""), html: el.outerHTML.slice(0, 200),
                  summary: `accessible name "${name}" does not start with the visible label "${shown.trim()}"`});
    }
  }
  return found;
}"""


def label_in_name_violations(page: Page) -> list[dict]:
    """WCAG 2.5.3 where axe doesn't look: a control (or an open dialog, by its heading) whose accessible name
    from aria-label / aria-labelledby doesn't start with the text shown. Same shape as `axe_violations`."""
    nodes = page.evaluate(_LABEL_IN_NAME)
    if not nodes:
        return []
    return [
        {
            "id": "label-in-name",
            "impact": "serious",
            "help": "The accessible name of a control starts with its visible label (WCAG 2.5.3)",
            "helpUrl": "https://www.w3.org/WAI/WCAG22/Understanding/label-in-name.html",
            "nodes": nodes,
        }
    ]


def axe_violations(page: Page, *, impacts: frozenset[str] = BLOCKING_IMPACTS) -> list[dict]:
    """axe-core's violations on `page` whose impact is in `impacts`, then `label_in_name_violations`: dicts of
    id, impact, help, helpUrl and nodes (each a CSS target, the failure summary and the element's HTML, cut to
    200 characters).

    Injects axe once per document (a navigation loads a fresh document, so it is injected again), as a script
    of the page's own origin: the portal's Content-Security-Policy refuses inline scripts, which is what
    Playwright's add_script_tag(path=…) would add.
    """
    page.emulate_media(reduced_motion="reduce")
    if not page.evaluate("typeof window.axe === 'object'"):
        _serve_axe(page)
        page.add_script_tag(url=AXE_URL)
    violations = page.evaluate(_RUN, [_EXTRA_RULES])
    return [v for v in violations if v["impact"] in impacts] + label_in_name_violations(page)


def describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']} <{v['helpUrl']}>")
        for node in v["nodes"][:8]:
            summary = " ".join((node["summary"] or "").split())
            lines.append(f"    {node['target']}: {summary}\n      {node['html']}")
    return "\n".join(lines)


def assert_accessible(page: Page, what: str = "") -> None:
    """Fail when axe finds a serious or critical violation on the page as it is now; `what` names the page
    (or the state: "order page, ⋯ menu open") in the failure."""
    violations = axe_violations(page)
    assert not violations, f"Accessibility violations on {what or page.url}:\n{describe(violations)}"


def accessible_name(page: Page, selector: str) -> tuple[str, str]:
    """(role, accessible name) of the first element matching `selector`, as Chromium computes them for screen
    readers (DevTools protocol, Accessibility domain): what a screen reader announces, not what the HTML says."""
    cdp = page.context.new_cdp_session(page)
    try:
        root = cdp.send("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
        node_id = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        assert node_id, f"no element matches {selector!r}"
        node = cdp.send("Accessibility.getPartialAXTree", {"nodeId": node_id, "fetchRelatives": False})["nodes"][0]
        return node["role"]["value"], " ".join(node.get("name", {}).get("value", "").split())
    finally:
        cdp.detach()
