// Keeps /-/calls live: asks /-/calls.json for the calls after the newest shown,
// once a second, and puts them at the top of the table. A file of its own:
// the Content-Security-Policy allows no inline script.
"use strict";
(function () {
  const body = document.getElementById("calls");
  const status = document.getElementById("live-status");
  if (!body) {
    return;
  }
  let last = Number(body.dataset.last || "0");
  const limit = 200;

  function cell(row, text, className) {
    const td = document.createElement("td");
    if (className) {
      const code = document.createElement("code");
      code.textContent = text;
      td.appendChild(code);
    } else {
      td.textContent = text;
    }
    row.appendChild(td);
    return td;
  }

  function addCall(call) {
    const row = document.createElement("tr");
    row.dataset.seq = String(call.seq);
    cell(row, call.at.slice(11, 23));
    cell(row, call.hook, "code");
    cell(row, call.sender);
    cell(row, call.duration_ms.toFixed(3));
    const impls = cell(row, "");
    if (call.impls.length === 0) {
      const none = document.createElement("span");
      none.className = "empty";
      none.textContent = "none";
      impls.appendChild(none);
    }
    for (const impl of call.impls) {
      const span = document.createElement("span");
      span.className = "impl outcome-" + impl.outcome;
      span.title = impl.function;
      span.textContent = impl.plugin + " " + impl.duration_ms.toFixed(3) + " ms " + impl.outcome +
        (impl.error ? ": " + impl.error : "");
      impls.appendChild(span);
    }
    body.insertBefore(row, body.firstChild);
    while (body.rows.length > limit) {
      body.deleteRow(body.rows.length - 1);
    }
  }

  async function poll() {
    try {
      const response = await fetch("/-/calls.json?after=" + last, { credentials: "same-origin" });
      if (!response.ok) {
        status.textContent = "stopped (" + response.status + ")";
        return;
      }
      const data = await response.json();
      for (const call of data.calls) {
        addCall(call);
        last = Math.max(last, call.seq);
      }
      status.textContent = data.recording ? "recording" : "not recording";
    } catch (error) {
      status.textContent = "offline, retrying";
    }
    window.setTimeout(poll, 1000);
  }

  window.setTimeout(poll, 1000);
})();
