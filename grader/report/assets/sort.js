(function () {
  var table = document.getElementById("leaderboard");
  if (!table) { return; }
  var body = table.tBodies[0];
  var heads = table.tHead.rows[0].cells;
  function key(row, i) {
    var v = row.cells[i].getAttribute("data-sort");
    var n = parseFloat(v);
    return isNaN(n) ? (v || "").toLowerCase() : n;
  }
  function sortBy(i, dir) {
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a, i), y = key(b, i);
      if (x === y) { return 0; }
      if (typeof x !== typeof y) { return typeof x === "number" ? -1 : 1; }
      return (x < y ? -1 : 1) * dir;
    });
    rows.forEach(function (r) { body.appendChild(r); });
    for (var j = 0; j < heads.length; j++) { heads[j].removeAttribute("aria-sort"); }
    heads[i].setAttribute("aria-sort", dir > 0 ? "ascending" : "descending");
    table.setAttribute("data-sorted-by", heads[i].getAttribute("data-key") + (dir > 0 ? ":asc" : ":desc"));
  }
  Array.prototype.forEach.call(heads, function (th, i) {
    th.classList.add("sortable");
    th.tabIndex = 0;
    function go() {
      var dir = th.getAttribute("aria-sort") === "descending" ? 1 : -1;
      if (th.getAttribute("data-type") === "text" && !th.hasAttribute("aria-sort")) { dir = 1; }
      sortBy(i, dir);
      history.replaceState(null, "", "#sort=" + th.getAttribute("data-key") + (dir > 0 ? ":asc" : ":desc"));
    }
    th.addEventListener("click", go);
    th.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); go(); } });
  });
  var m = /^#sort=([^:]+)(?::(asc|desc))?$/.exec(decodeURIComponent(location.hash));
  if (m) {
    for (var k = 0; k < heads.length; k++) {
      if (heads[k].getAttribute("data-key") === m[1]) { sortBy(k, m[2] === "asc" ? 1 : -1); }
    }
  }
})();
