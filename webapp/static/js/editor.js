// BPMN editor for process owners: bpmn-js Modeler (+ properties panel) from the npm registry,
// forms as JSON next to the diagram, "Prüfen" and "Bereitstellen" against the server.
(function () {
  "use strict";
  var root = document.getElementById("editor");
  if (!root || !window.BpmnJS) { return; }
  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  var options = { container: "#leinwand", };
  var panel = window.BpmnJSPropertiesPanel;
  if (panel) {
    options.propertiesPanel = { parent: "#eigenschaften" };
    options.additionalModules = [panel.BpmnPropertiesPanelModule, panel.BpmnPropertiesProviderModule];
  }
  var modeler = new window.BpmnJS(options);
  window.modellEditor = modeler;          // for tests and the browser console
  var state = { main: "modell.bpmn", others: {}, marked: [] };
  var fileName = document.getElementById("dateiname");
  var message = document.getElementById("meldung");
  var list = document.getElementById("probleme");
  var formsBox = document.getElementById("formulare");

  function say(text, kind) {
    message.textContent = text;
    message.className = kind || "";
  }

  function addForm(name, text) {
    var box = document.createElement("div");
    box.className = "formular";
    var label = document.createElement("label");
    label.textContent = name;
    var area = document.createElement("textarea");
    area.dataset.name = name;
    area.value = text;
    area.setAttribute("aria-label", "Formular " + name);
    var error = document.createElement("div");
    error.className = "json-fehler";
    area.addEventListener("input", function () {
      try { JSON.parse(area.value); area.classList.remove("ungueltig"); error.textContent = ""; }
      catch (e) { area.classList.add("ungueltig"); error.textContent = "Kein gültiges JSON: " + e.message; }
    });
    label.appendChild(document.createElement("br"));
    label.appendChild(area);
    box.appendChild(label);
    box.appendChild(error);
    formsBox.appendChild(box);
  }

  function forms() {
    var result = {};
    formsBox.querySelectorAll("textarea").forEach(function (area) { result[area.dataset.name] = area.value; });
    return result;
  }

  function invalidForms() {
    return Array.prototype.filter.call(formsBox.querySelectorAll("textarea"), function (area) {
      try { JSON.parse(area.value); return false; } catch (e) { return true; }
    }).map(function (area) { return area.dataset.name; });
  }

  function importXml(xml) {
    return modeler.importXML(xml).then(function () {
      modeler.get("canvas").zoom("fit-viewport");
      root.classList.add("geladen");
    });
  }

  function payload() {
    return modeler.saveXML({ format: true }).then(function (saved) {
      state.main = fileName.value.trim() || state.main;
      var files = Object.assign({}, state.others, forms());
      files[state.main] = saved.xml;
      return { main: state.main, files: files };
    });
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, "Accept": "application/json" },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().then(function (data) { return { ok: response.ok, status: response.status, data: data }; },
        function () { throw new Error("HTTP " + response.status); });
    });
  }

  function clearMarkers() {
    var canvas = modeler.get("canvas");
    state.marked.forEach(function (id) { try { canvas.removeMarker(id, "problem"); } catch (e) { /* gone */ } });
    state.marked = [];
  }

  function showProblems(problems) {
    clearMarkers();
    list.textContent = "";
    var registry = modeler.get("elementRegistry");
    var canvas = modeler.get("canvas");
    if (!problems.length) {
      var ok = document.createElement("li");
      ok.className = "ok";
      ok.textContent = "Keine Probleme gefunden.";
      list.appendChild(ok);
      return;
    }
    problems.forEach(function (p) {
      var item = document.createElement("li");
      item.className = p.severity || "fehler";
      var where = [p.file_name, p.element_id ? "Element " + p.element_id : null, p.line ? "Zeile " + p.line : null]
        .filter(Boolean).join(", ");
      item.textContent = p.message + (where ? " (" + where + ")" : "");
      if (p.element_id && registry.get(p.element_id)) {
        canvas.addMarker(p.element_id, "problem");
        state.marked.push(p.element_id);
        var show = document.createElement("button");
        show.type = "button";
        show.textContent = "zeigen";
        show.addEventListener("click", function () {
          modeler.get("selection").select(registry.get(p.element_id));
          canvas.scrollToElement(registry.get(p.element_id));
        });
        item.appendChild(document.createTextNode(" "));
        item.appendChild(show);
      }
      list.appendChild(item);
    });
  }

  function run(url, after) {
    var broken = invalidForms();
    if (broken.length) { say("Bitte zuerst das JSON korrigieren: " + broken.join(", "), "fehler"); return; }
    say("Bitte warten …");
    payload().then(function (body) { return post(url, body); }).then(function (result) {
      after(result);
    }).catch(function (e) { say("Fehler: " + e.message, "fehler"); });
  }

  document.getElementById("pruefen").addEventListener("click", function () {
    run(root.dataset.pruefen, function (result) {
      var problems = result.data.problems || [];
      showProblems(problems);
      say(problems.length ? problems.length + " Problem(e) gefunden." : "Das Modell ist gültig.",
          problems.length ? "fehler" : "ok");
    });
  });

  document.getElementById("bereitstellen").addEventListener("click", function () {
    run(root.dataset.bereitstellen, function (result) {
      if (result.ok) {
        showProblems([]);
        say(result.data.message, "ok");
        var link = document.createElement("a");
        link.href = result.data.list_url;
        link.textContent = " Zur Modellliste";
        message.appendChild(link);
      } else {
        showProblems(result.data.problems || []);
        say("Nicht bereitgestellt: das Modell hat Probleme.", "fehler");
      }
    });
  });

  document.getElementById("hochladen").addEventListener("change", function (event) {
    var file = event.target.files[0];
    if (!file) { return; }
    file.text().then(function (xml) {
      fileName.value = file.name;
      return importXml(xml);
    }).then(function () { say("„" + file.name + "“ geladen.", "ok"); })
      .catch(function (e) { say("Die Datei konnte nicht gelesen werden: " + e.message, "fehler"); });
  });

  document.getElementById("herunterladen").addEventListener("click", function () {
    modeler.saveXML({ format: true }).then(function (saved) {
      var link = document.createElement("a");
      link.href = URL.createObjectURL(new Blob([saved.xml], { type: "application/xml" }));
      link.download = fileName.value.trim() || state.main;
      document.body.appendChild(link);
      link.click();
      link.remove();
    });
  });

  document.getElementById("formular-anlegen").addEventListener("click", function () {
    var input = document.getElementById("neues-formular");
    var name = input.value.trim();
    if (!/^[A-Za-z0-9_.-]+\.json$/.test(name)) { say("Formularname: z. B. antrag_pruefen.json", "fehler"); return; }
    addForm(name, JSON.stringify({ title: "", type: "object", required: [], properties: {} }, null, 2));
    input.value = "";
  });

  fetch(root.dataset.quelle, { credentials: "same-origin" })
    .then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.json();
    })
    .then(function (source) {
      state.main = source.main;
      state.others = source.others || {};
      fileName.value = source.main;
      Object.keys(source.forms || {}).sort().forEach(function (name) { addForm(name, source.forms[name]); });
      document.getElementById("stand").textContent = source.version
        ? "Grundlage: Version " + source.version + " (" + source.main + ")"
        : "Neues, leeres Diagramm";
      return importXml(source.xml);
    })
    .catch(function (e) { say("Das Modell konnte nicht geladen werden: " + e.message, "fehler"); });
})();
