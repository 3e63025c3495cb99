// artvcs ui: the one script of the pages. A folder in a file tree loads its own listing when opened,
// so a large manifest is read one folder at a time. The fragment comes from this server, escaped.
"use strict";
function wireTree(root) {
  root.querySelectorAll("details[data-src]").forEach(function (d) {
    if (d.dataset.wired) return;
    d.dataset.wired = "1";
    d.addEventListener("toggle", function () {
      if (!d.open || d.dataset.loaded) return;
      d.dataset.loaded = "1";
      var box = d.querySelector(".children");
      fetch(d.dataset.src, { credentials: "same-origin" })
        .then(function (r) { if (!r.ok) throw new Error(r.status + " " + r.statusText); return r.text(); })
        .then(function (html) { box.innerHTML = html; wireTree(box); })
        .catch(function (e) { box.textContent = "could not load: " + e.message; d.dataset.loaded = ""; });
    });
  });
}
document.addEventListener("DOMContentLoaded", function () { wireTree(document); });
