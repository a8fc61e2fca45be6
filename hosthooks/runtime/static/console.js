// Keeps a console page live: every 2 seconds, asks the server for the part of
// the page marked data-live (rendered and escaped by the server) and puts it in
// place, keeping open what the reader opened. A file of its own: the
// Content-Security-Policy allows no inline script. Without it the pages work,
// only not live.
"use strict";
(function () {
  const live = document.getElementById("live");
  const status = document.getElementById("live-status");
  if (!live || !live.dataset.live) {
    return;
  }
  const url = live.dataset.live;
  // The calls page answers 204 while nothing new was recorded since `last`.
  let last = "";

  async function refresh() {
    if (live.contains(document.activeElement)) {
      // The reader is typing in a form of the live part: not now.
      window.setTimeout(refresh, 2000);
      return;
    }
    try {
      const asked = last ? url + "&since=" + encodeURIComponent(last) : url;
      const response = await fetch(asked, { credentials: "same-origin" });
      if (!response.ok) {
        status.textContent = "stopped (" + response.status + ")";
        return;
      }
      if (response.status === 204) {
        status.textContent = "recording";
        window.setTimeout(refresh, 2000);
        return;
      }
      last = response.headers.get("X-Console-Last") || "";
      const html = await response.text();
      const open = new Set(
        Array.from(live.querySelectorAll("details[open]"), (details) => details.id)
      );
      const fresh = new DOMParser().parseFromString(html, "text/html").body;
      for (const details of fresh.querySelectorAll("details")) {
        if (open.has(details.id)) {
          details.open = true;
        }
      }
      live.replaceChildren(...fresh.childNodes);
      status.textContent = "recording";
    } catch (error) {
      status.textContent = "offline, retrying";
    }
    window.setTimeout(refresh, 2000);
  }

  window.setTimeout(refresh, 2000);
})();
