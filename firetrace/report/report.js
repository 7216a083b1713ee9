(function () {
  "use strict";
  var table = document.getElementById("flagged-table");
  var controls = document.getElementById("controls");
  if (!table || !controls) { return; }
  var tbody = table.tBodies[0];
  var rows = Array.prototype.slice.call(tbody.rows);
  var filter = document.getElementById("filter");
  var verdict = document.getElementById("verdict-filter");
  var count = document.getElementById("shown-count");
  controls.hidden = false;
  function apply() {
    var words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    rows.forEach(function (row) {
      var hay = row.textContent.toLowerCase();
      var ok = (!verdict.value || row.getAttribute("data-verdict") === verdict.value) &&
        words.every(function (w) { return hay.indexOf(w) !== -1; });
      row.hidden = !ok;
      if (ok) { shown += 1; }
    });
    count.textContent = shown + " of " + rows.length + " shown";
  }
  // Printing shows everything: closed sections open, filtered rows come back.
  window.addEventListener("beforeprint", function () {
    Array.prototype.forEach.call(document.querySelectorAll("details"), function (d) {
      d.open = true;
    });
  });
  filter.addEventListener("input", apply);
  verdict.addEventListener("change", apply);
  var heads = table.tHead.rows[0].cells;
  Array.prototype.forEach.call(heads, function (th, column) {
    var button = document.createElement("button");
    button.type = "button";
    button.textContent = th.textContent;
    th.textContent = "";
    th.appendChild(button);
    th.classList.add("sortable");
    button.addEventListener("click", function () {
      var ascending = th.getAttribute("aria-sort") !== "ascending";
      Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      var numeric = th.getAttribute("data-type") === "num";
      rows.sort(function (a, b) {
        var x = a.cells[column], y = b.cells[column];
        var p = x.getAttribute("data-v"), q = y.getAttribute("data-v");
        var c = numeric ? parseFloat(p === null ? x.textContent : p) -
          parseFloat(q === null ? y.textContent : q)
          : x.textContent.localeCompare(y.textContent);
        return ascending ? c : -c;
      });
      rows.forEach(function (row) { tbody.appendChild(row); });
    });
  });
  apply();
}());
