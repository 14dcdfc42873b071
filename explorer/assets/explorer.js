// Arena explorer: keeps the page current without a reload. Polls /api/head once a second; when
// the height moved (or the chain came back), fetches this page again and swaps its content in.
// Shows a banner while the chain or the explorer itself cannot be reached.
(function () {
  "use strict";
  var shownHeight = null;
  var busy = false;

  function statusBar() { return document.getElementById("status"); }

  function offline(message) {
    var bar = statusBar();
    if (!bar) return;
    bar.className = "status offline";
    bar.innerHTML = "";
    var dot = document.createElement("span");
    dot.className = "down";
    dot.textContent = "● ";
    bar.appendChild(dot);
    bar.appendChild(document.createTextNode(message));
  }

  function refresh() {
    busy = true;
    return fetch(location.href, { cache: "no-store", headers: { "X-Arena-Live": "1" } })
      .then(function (r) { return r.text(); })
      .then(function (text) {
        var doc = new DOMParser().parseFromString(text, "text/html");
        var content = doc.getElementById("content");
        var bar = doc.getElementById("status");
        if (content) document.getElementById("content").replaceWith(content);
        if (bar && statusBar()) statusBar().replaceWith(bar);
        document.title = doc.title;
      })
      .finally(function () { busy = false; });
  }

  function tick() {
    if (busy) return;
    fetch("/api/head", { cache: "no-store" })
      .then(function (r) { return r.json(); })
      .then(function (head) {
        if (!head.reachable) {
          offline("chain " + head.chain_id + " unreachable" + (head.error ? ": " + head.error : "") + " (last height " + head.height + ")");
          shownHeight = null;
          return;
        }
        if (shownHeight === null) {
          var bar = statusBar();
          shownHeight = bar ? Number(bar.getAttribute("data-height")) : 0;
        }
        if (head.height !== shownHeight || (statusBar() && statusBar().classList.contains("offline"))) {
          shownHeight = head.height;
          return refresh();
        }
      })
      .catch(function () { offline("the explorer itself is unreachable; retrying"); });
  }

  document.addEventListener("click", function (e) {
    var text = e.target && e.target.getAttribute && e.target.getAttribute("data-copy");
    if (!text) return;
    if (navigator.clipboard) navigator.clipboard.writeText(text);
    e.target.textContent = "copied";
  });

  setInterval(tick, 1000);
})();
