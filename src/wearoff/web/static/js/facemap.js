// The face map of the charting form: clicking an area selects it (and the list follows); with "Mark injection
// points" on, clicks inside the selected area add points (the units are shared equally between them on save).
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var svg = document.querySelector("svg.facemap");
    var select = document.getElementById("area-select");
    var pointsInput = document.getElementById("points-input");
    var units = document.getElementById("units");
    var mark = document.getElementById("mark-points");
    var layer = document.getElementById("face-points");
    var countLabel = document.getElementById("points-count");
    var nameLabel = document.getElementById("area-name");
    var hint = document.getElementById("units-hint");
    var info = JSON.parse(document.getElementById("area-typical").textContent);
    var points = [];
    try { points = JSON.parse(pointsInput.value || "[]") || []; } catch (e) { points = []; }

    function fire(node) { node.dispatchEvent(new Event("change", { bubbles: true })); }

    function showArea() {
      var code = select.value;
      svg.querySelectorAll(".zone").forEach(function (z) { z.classList.toggle("selected", z.dataset.area === code); });
      var area = info.areas[code];
      nameLabel.textContent = area ? area.label : "Click an area on the face";
      if (area) {
        var range = area[info.sex];
        hint.textContent = "typical " + range[0] + "–" + range[1] + " U" + (area.per_side ? " a side" : "") + " · label max " + area.max + " U (onabotulinumtoxinA)";
      } else {
        hint.textContent = "";
      }
    }

    function writePoints() {
      var total = parseFloat(units.value);
      var share = points.length && isFinite(total) ? Math.round((total / points.length) * 100) / 100 : 0;
      var stored = points.map(function (p) { return { x: p.x, y: p.y, units: share }; });
      pointsInput.value = stored.length ? JSON.stringify(stored) : "";
      layer.innerHTML = "";
      points.forEach(function (p) {
        var c = document.createElementNS("http://www.w3.org/2000/svg", "circle");
        c.setAttribute("cx", p.x); c.setAttribute("cy", p.y); c.setAttribute("r", 5); c.setAttribute("class", "point");
        layer.appendChild(c);
      });
      countLabel.textContent = points.length ? points.length + " point" + (points.length > 1 ? "s" : "") + (share ? ", " + share + " U each" : "") : "";
    }

    function svgPoint(event) {
      var pt = svg.createSVGPoint();
      pt.x = event.clientX; pt.y = event.clientY;
      var local = pt.matrixTransform(svg.getScreenCTM().inverse());
      return { x: Math.round(local.x * 10) / 10, y: Math.round(local.y * 10) / 10 };
    }

    svg.addEventListener("click", function (event) {
      var zone = event.target.closest(".zone");
      if (!zone) return;
      if (mark.checked && zone.dataset.area === select.value) {
        points.push(svgPoint(event));
        writePoints();
        fire(pointsInput);
        return;
      }
      if (zone.dataset.area !== select.value) {
        points = [];
        writePoints();
      }
      select.value = zone.dataset.area;
      showArea();
      fire(select);
      units.focus();
    });
    svg.querySelectorAll(".zone").forEach(function (z) {
      z.setAttribute("tabindex", "0");
      z.setAttribute("role", "button");
      z.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); z.dispatchEvent(new MouseEvent("click", { bubbles: true })); }
      });
    });
    select.addEventListener("change", function () { showArea(); });
    units.addEventListener("input", writePoints);
    document.getElementById("clear-points").addEventListener("click", function () { points = []; writePoints(); fire(pointsInput); });
    showArea();
    writePoints();
  });
})();
