// Shows the case's process diagram (bpmn-js from the npm registry) and marks where the case stands.
(function () {
  "use strict";
  var container = document.getElementById("diagramm");
  if (!container || !window.BpmnJS) { return; }
  var viewer = new window.BpmnJS({ container: container });
  fetch(container.dataset.xml, { credentials: "same-origin" })
    .then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.text();
    })
    .then(function (xml) { return viewer.importXML(xml); })
    .then(function () {
      var canvas = viewer.get("canvas");
      canvas.zoom("fit-viewport");
      (container.dataset.active || "").split(" ").filter(Boolean).forEach(function (id) {
        try { canvas.addMarker(id, "aktuell"); } catch (e) { /* element not drawn */ }
      });
      container.classList.add("geladen");
    })
    .catch(function () {
      container.textContent = "Das Diagramm konnte nicht geladen werden.";
      container.classList.add("fehler");
    });
})();
