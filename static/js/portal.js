/* The portal's small behaviours; pages work without them. No page has a script or an event handler of its own:
 * the Content-Security-Policy allows scripts from the portal's static files only (settings.CONTENT_SECURITY_POLICY),
 * so what a page needs is written here, keyed on data- attributes.
 *
 * 1. Action buttons show they are working, so nobody clicks twice and waits in doubt.
 *
 * When a form that posts is submitted (plainly or through htmx), its submit button is disabled until the
 * answer comes, and says what is happening if it has a data-busy-label ("Sending…"). A second submit of a
 * form still waiting is dropped. htmx answers in place: the button comes back when the request ends
 * (htmx:afterRequest), if the answer left the form on the page. A plain post leaves the page; a page
 * restored from the back/forward cache gets its buttons back.
 *
 * 2. A table wider than its box scrolls inside it (portal.css, phone-sized windows). While it does, it takes
 * keyboard focus (tabindex 0), so it can be scrolled with the arrow keys and not only by touch or mouse
 * (WCAG 2.1.1; axe's scrollable-region-focusable).
 *
 * 3. The order page's action dialog (<dialog data-action-dialog>): it opens when htmx puts a confirmation step
 * in it and closes when the step leaves it empty; it is named by the heading it shows. A link with
 * data-close-menu closes its ⋯ menu (<details>) when it sends its request; a button with data-close-dialog
 * closes the dialog it is in.
 *
 * 4. An open <details> (the order page's ⋯ Actions menu) stays open when a poll swaps it out of band
 * (orders/order_refresh.html swaps #actions whenever the email status moves): the new copy arrives open, with
 * the newest actions, and focus goes back to the same item (or the menu's summary if that item is gone), so
 * neither a keyboard user nor a finger about to tap loses the menu under them.
 * 5. A field with data-chooses="<radio id>" belongs to that choice: ticking it, or typing in it, selects the
 * radio (the refund's ticket boxes select "Some tickets", its amount "An amount"), so what is marked and what
 * is chosen can't disagree unseen. The server refuses a disagreement either way (orders.forms.RefundForm).
 */
(() => {
  "use strict";

  const busyForms = new WeakSet();

  function setBusy(form, button) {
    if (!button || !busyForms.has(form)) return;  // the request already ended, or never started
    button.dataset.idleLabel = button.textContent;
    if (button.dataset.busyLabel) button.textContent = button.dataset.busyLabel;
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
  }

  function setIdle(form) {
    busyForms.delete(form);
    for (const button of form.querySelectorAll("button[aria-busy]")) {
      button.textContent = button.dataset.idleLabel;
      button.disabled = false;
      button.removeAttribute("aria-busy");
    }
  }

  document.addEventListener("submit", (event) => {
    const form = event.target;
    // getAttribute, not form.method: a field named "method" (the box office's "Paid by") hides that property.
    if (!(form instanceof HTMLFormElement) || (form.getAttribute("method") || "get").toLowerCase() !== "post") return;
    if (busyForms.has(form)) {
      event.preventDefault();  // a second submit while the first is on its way
      event.stopImmediatePropagation();
      return;
    }
    const button = event.submitter || form.querySelector("button[type=submit], button:not([type])");
    // Disabled after this event, not during it: a button disabled while its own submit event runs can drop
    // the plain post in some browsers. The WeakSet refuses a second submit in between.
    setTimeout(() => setBusy(form, button), 0);
    busyForms.add(form);
  }, true);

  // The request ended (answered, failed, or never sent because htmx found the form invalid).
  for (const name of ["htmx:afterRequest", "htmx:validation:halted"]) {
    document.addEventListener(name, (event) => {
      const elt = event.detail.elt || event.target;
      const form = elt instanceof HTMLFormElement ? elt : elt.closest?.("form");
      if (form && busyForms.has(form)) setIdle(form);
    });
  }

  window.addEventListener("pageshow", (event) => {
    if (event.persisted) document.querySelectorAll("form").forEach(setIdle);
  });

  function markScrollingTables() {
    for (const table of document.querySelectorAll("main table")) {
      if (table.scrollWidth > table.clientWidth + 1) {
        table.tabIndex = 0;
        table.dataset.scrolls = "";
      } else if ("scrolls" in table.dataset) {
        table.removeAttribute("tabindex");
        delete table.dataset.scrolls;
      }
    }
  }
  document.addEventListener("htmx:beforeRequest", (event) => {
    const elt = event.detail.elt;
    if (elt instanceof Element && elt.hasAttribute("data-close-menu")) {
      const menu = elt.closest("details");
      if (menu) menu.open = false;
    }
  });

  document.addEventListener("htmx:afterSwap", (event) => {
    const dialog = event.target instanceof Element ? event.target.closest("dialog[data-action-dialog]") : null;
    if (!dialog) return;
    const body = dialog.querySelector("#action-dialog-body") || dialog;
    if (body.childElementCount) {
      const heading = body.querySelector("h1[id], h2[id]");
      if (heading) dialog.setAttribute("aria-labelledby", heading.id);
      if (!dialog.open) dialog.showModal();
    } else if (dialog.open) {
      dialog.close();
    }
  });

  const reopened = new Map();  // old <details> → what had focus in it, until its new copy is on the page

  document.addEventListener("htmx:oobBeforeSwap", (event) => {
    const old = event.detail.target;
    const fresh = event.detail.fragment?.firstElementChild;
    if (!(old instanceof HTMLDetailsElement) || !old.open || !(fresh instanceof HTMLDetailsElement)) return;
    fresh.open = true;
    const focused = old.contains(document.activeElement) ? document.activeElement : null;
    reopened.set(old, {
      id: old.id,
      summary: focused?.tagName === "SUMMARY",
      href: focused?.getAttribute("href") ?? null,
    });
  });

  // Fired once per element swapped so far in the same answer: the Map lets each menu be handled once.
  document.addEventListener("htmx:oobAfterSwap", (event) => {
    const was = reopened.get(event.detail.target);
    if (!was) return;
    reopened.delete(event.detail.target);
    const menu = document.getElementById(was.id);
    if (!(menu instanceof HTMLDetailsElement) || (!was.summary && was.href === null)) return;
    const link = was.href === null ? null
      : [...menu.querySelectorAll("a[href]")].find((a) => a.getAttribute("href") === was.href);
    (link || menu.querySelector("summary"))?.focus({ preventScroll: true });
  });

  document.addEventListener("click", (event) => {
    const button = event.target instanceof Element ? event.target.closest("[data-close-dialog]") : null;
    const dialog = button ? button.closest("dialog") : null;
    if (dialog) dialog.close();
  });

  // A header checkbox with data-select-all="<form id>" ticks every row checkbox of that form (the bulk send).
  document.addEventListener("change", (event) => {
    const all = event.target instanceof HTMLInputElement ? event.target : null;
    if (!all || !all.dataset.selectAll) return;
    document.querySelectorAll(`input[type=checkbox][form="${all.dataset.selectAll}"]`).forEach((box) => {
      box.checked = all.checked;
    });
  });

  function chooseOwner(event) {
    const field = event.target instanceof HTMLInputElement ? event.target : null;
    if (!field || !field.dataset.chooses) return;
    if (field.type === "checkbox" ? !field.checked : !field.value.trim()) return;  // unticking chooses nothing
    const radio = document.getElementById(field.dataset.chooses);
    if (radio instanceof HTMLInputElement && !radio.checked) {
      radio.checked = true;
      radio.dispatchEvent(new Event("change", { bubbles: true }));
    }
  }
  document.addEventListener("change", chooseOwner);
  document.addEventListener("input", chooseOwner);

  document.addEventListener("DOMContentLoaded", markScrollingTables);
  document.addEventListener("htmx:afterSettle", markScrollingTables);
  window.addEventListener("resize", markScrollingTables);
})();
