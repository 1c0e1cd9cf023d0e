// The instance page's diagram: bpmn-js's NavigatedViewer shows the version's BPMN and
// marks completed, active, overdue and failed elements (classes styled in
// instances.css). The data comes from the URL in the box's data-src (no inline script).
(function () {
  "use strict";
  var box = document.getElementById("diagram");
  if (!box) {
    return;
  }
  var MARKERS = {completed: "dj-done", active: "dj-active", overdue: "dj-overdue",
                 failed: "dj-failed"};
  var READABLE = 0.7;

  function fail() {
    box.setAttribute("data-state", "error");
    box.textContent = box.getAttribute("data-error") || "";
  }
  if (!window.BpmnJS || !window.fetch) {
    fail();
    return;
  }
  var viewer = new window.BpmnJS({container: box});
  var canvas = viewer.get("canvas");

  function fit() {
    canvas.zoom("fit-viewport", "auto");
  }

  // On a narrow screen a whole procedure fits only too small to read: start instead
  // at a readable size around the step that matters now ("fit" shows it all).
  function focus(ids) {
    var registry = viewer.get("elementRegistry");
    var outer = canvas.viewbox().outer;
    var element = ids.map(function (id) { return registry.get(id); }).filter(Boolean)[0];
    if (!element || outer.width > 600 || canvas.zoom() >= READABLE) {
      return;
    }
    var width = outer.width / READABLE, height = outer.height / READABLE;
    canvas.viewbox({x: element.x + element.width / 2 - width / 2,
                    y: element.y + element.height / 2 - height / 2,
                    width: width, height: height});
  }

  function mark(data) {
    var registry = viewer.get("elementRegistry");
    Object.keys(MARKERS).forEach(function (key) {
      (data[key] || []).forEach(function (id) {
        if (registry.get(id)) {  // a called process's own steps are not drawn here
          canvas.addMarker(id, MARKERS[key]);
        }
      });
    });
  }

  fetch(box.getAttribute("data-src"), {credentials: "same-origin",
                                        headers: {"Accept": "application/json"}})
    .then(function (response) {
      if (!response.ok) {
        throw new Error("HTTP " + response.status);
      }
      return response.json();
    })
    .then(function (data) {
      return viewer.importXML(data.xml).then(function () {
        mark(data);
        fit();
        focus((data.overdue || []).concat(data.failed || [], data.active || []));
        box.setAttribute("data-state", "ready");
      });
    })
    .catch(fail);

  // zoom buttons
  document.querySelectorAll("[data-zoom]").forEach(function (button) {
    button.addEventListener("click", function () {
      var how = button.getAttribute("data-zoom");
      if (how === "fit") {
        fit();
      } else {
        canvas.zoom(canvas.zoom() * (how === "in" ? 1.25 : 0.8));
      }
    });
  });

  // touch: one finger scrolls the page as usual; two fingers move and pinch-zoom
  var last = null;

  function pair(event) {
    var a = event.touches[0], b = event.touches[1];
    var rect = box.getBoundingClientRect();
    return {x: (a.clientX + b.clientX) / 2 - rect.left, y: (a.clientY + b.clientY) / 2 - rect.top,
            d: Math.hypot(a.clientX - b.clientX, a.clientY - b.clientY) || 1};
  }
  box.addEventListener("touchstart", function (event) {
    last = event.touches.length === 2 ? pair(event) : null;
  }, {passive: true});
  box.addEventListener("touchmove", function (event) {
    if (event.touches.length !== 2 || !last) {
      return;
    }
    event.preventDefault();
    var now = pair(event);
    canvas.scroll({dx: now.x - last.x, dy: now.y - last.y});
    var scale = now.d / last.d;
    if (Math.abs(scale - 1) > 0.01) {
      canvas.zoom(canvas.zoom() * scale, {x: now.x, y: now.y});
    }
    last = now;
  }, {passive: false});
  box.addEventListener("touchend", function () {
    last = null;
  }, {passive: true});
})();
