// The queue kept current without a reload. The page works without this script: it only
// fetches the same page again and puts its fresh sentence and lines in place of the old,
// when the live feed (/api/v1/stream, opened with the session cookie) says something
// happened, and once a minute so that "due in ..." stays true. Who may not watch the feed
// (agents hold no stream:read) gets the minute's refresh alone. The HTML comes from the
// server, escaped there; nothing here builds markup from data.
(function () {
  "use strict";
  var live = document.getElementById("queue-live");
  if (!live || !window.fetch || !window.DOMParser) {
    return;
  }
  var POLL_MS = 60000;
  var SETTLE_MS = 300; // a burst of signals is one refresh
  var said = live.dataset.mode === "stream"
    ? "This list follows new signals as they arrive."
    : "This list refreshes every minute.";
  var pending = null;

  function stamp() {
    var now = new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    live.textContent = said + " Updated " + now + ".";
  }

  function swap(html) {
    var fresh = new DOMParser().parseFromString(html, "text/html");
    var parts = document.querySelectorAll("[data-live-part]");
    for (var i = 0; i < parts.length; i++) {
      var part = parts[i];
      var next = fresh.getElementById(part.id);
      if (!next) {
        return; // not the queue (signed out, an error page): leave the page as it is
      }
      var focused = document.activeElement;
      var href = focused && part.contains(focused) ? focused.getAttribute("href") : null;
      var copy = document.importNode(next, true);
      part.replaceWith(copy);
      if (href) {
        var again = copy.querySelector('a[href="' + CSS.escape(href) + '"]');
        if (again) {
          again.focus();
        }
      }
    }
    stamp();
  }

  function refresh() {
    pending = null;
    var here = window.location.pathname + window.location.search;
    fetch(here, { credentials: "same-origin", cache: "no-store", redirect: "manual" })
      .then(function (response) {
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (html) {
          swap(html);
        }
      })
      .catch(function () {
        // offline for a moment: the next signal or minute tries again
      });
  }

  function soon() {
    if (pending === null) {
      pending = window.setTimeout(refresh, SETTLE_MS);
    }
  }

  if (live.dataset.mode === "stream" && window.EventSource) {
    var source = new EventSource("/api/v1/stream");
    source.onmessage = soon;
  }
  window.setInterval(refresh, POLL_MS);
  live.textContent = said;
})();
