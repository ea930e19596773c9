// crimestats web: progressive enhancement. Without this file (or without the vendored vega-embed) every page
// still reads: charts are SVG images and tables are in a sensible order.
(function () {
  "use strict";

  // Charts: each figure holds its Vega-Lite spec in a <script type="application/json"> block; vega-embed draws
  // it (tooltips, resizing) in place of the SVG image, which stays if drawing fails.
  function drawCharts() {
    if (typeof window.vegaEmbed !== "function") return;
    document.querySelectorAll(".vega[data-spec]").forEach(function (holder) {
      var source = document.getElementById(holder.getAttribute("data-spec"));
      if (!source) return;
      var spec = JSON.parse(source.textContent);
      // mode vega: the server compiled the spec (no Vega-Lite compiler is loaded); ast: vega-embed's own
      // expression interpreter, no eval (the page's CSP allows none)
      var options = {
        mode: "vega", actions: false, renderer: "svg", ast: true, defaultStyle: false,
        tooltip: { disableDefaultStyle: true }
      };
      var target = document.createElement("div");
      target.setAttribute("role", "img");
      target.setAttribute("aria-label", (holder.querySelector("img") || {}).alt || "chart");
      window.vegaEmbed(target, spec, options).then(function () {
        holder.replaceChildren(target);
      }).catch(function () { /* keep the SVG image */ });
    });
  }

  // Sortable tables: a button in each heading sorts by that column (numbers as numbers, '..' last).
  function cellValue(row, index) {
    var text = row.children[index].textContent.trim();
    var number = parseFloat(text.replace(/,/g, "").replace(/^\+/, ""));
    return isNaN(number) ? text.toLowerCase() : number;
  }

  function compare(a, b) {
    var aNumber = typeof a === "number", bNumber = typeof b === "number";
    if (aNumber && bNumber) return a - b;
    if (aNumber !== bNumber) return aNumber ? -1 : 1;
    return a < b ? -1 : a > b ? 1 : 0;
  }

  function sortBy(table, heading, index) {
    var descending = heading.getAttribute("aria-sort") === "ascending";
    table.querySelectorAll("thead th").forEach(function (th) { th.removeAttribute("aria-sort"); });
    heading.setAttribute("aria-sort", descending ? "descending" : "ascending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var order = compare(cellValue(a, index), cellValue(b, index));
      return descending ? -order : order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }

  function sortableTables() {
    document.querySelectorAll("table.sortable").forEach(function (table) {
      table.querySelectorAll("thead th").forEach(function (heading, index) {
        var button = document.createElement("button");
        button.type = "button";
        button.textContent = heading.textContent;
        button.addEventListener("click", function () { sortBy(table, heading, index); });
        heading.replaceChildren(button);
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    sortableTables();
    drawCharts();
  });
})();
