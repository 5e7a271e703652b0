// The one confirmation dialog: a title, a text, an optional select and an optional reason; resolves to
// {reason, value} on Confirm and to null on Cancel (or when another dialog replaces it).
import { $, clear, h, show } from "./core.js";

let pendingConfirm = null;
let submitConfirm = () => undefined;

export function confirmDialog({ title, text, reason, select, ok, danger }) {
  const dialog = $("confirm-dialog");
  $("confirm-title").textContent = title;
  $("confirm-text").textContent = text || "";
  $("confirm-ok").textContent = ok || "Confirm";
  $("confirm-ok").className = danger ? "danger" : "primary";
  show($("confirm-error"), false);
  const fields = clear($("confirm-fields"));
  let reasonInput = null;
  let selectInput = null;
  if (select) {
    selectInput = h("select", { testid: select.testid, id: "confirm-select" },
      select.options.map((o) => h("option", { value: o.value }, o.label)));
    fields.appendChild(h("label", { for: "confirm-select" }, select.label, selectInput));
  }
  if (reason) {
    reasonInput = h("textarea", { testid: reason.testid, id: "confirm-reason", rows: 3, maxlength: reason.maxlength || 2000 });
    fields.appendChild(h("label", { for: "confirm-reason" }, reason.label, reasonInput));
  }
  if (pendingConfirm) pendingConfirm(null);
  return new Promise((resolve) => {
    pendingConfirm = (answer) => { pendingConfirm = null; if (dialog.open) dialog.close(); resolve(answer); };
    submitConfirm = () => {
      const value = reasonInput ? reasonInput.value.trim() : "";
      if (reason && reason.required && !value) {
        $("confirm-error").textContent = reason.missing || "A reason is required.";
        show($("confirm-error"), true);
        reasonInput.focus();
        return;
      }
      pendingConfirm({ reason: value, value: selectInput ? selectInput.value : null });
    };
    dialog.showModal();
    (reasonInput || selectInput || $("confirm-ok")).focus();
  });
}
export function closeDialog() {
  if (pendingConfirm) pendingConfirm(null);
}
export function initDialog() {
  const dialog = $("confirm-dialog");
  $("confirm-form").addEventListener("submit", (event) => { event.preventDefault(); submitConfirm(); });
  $("confirm-cancel").addEventListener("click", closeDialog);
  dialog.addEventListener("cancel", (event) => { event.preventDefault(); closeDialog(); });
}
