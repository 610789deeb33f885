// The imagelabel page: choose or drop an image, upload it with progress,
// show its labels. Plain JS, no dependencies, no inline script (CSP: script-src 'self').
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const form = $("form"), input = $("file"), drop = $("drop"), preview = $("preview");
  const submit = $("submit"), progress = $("progress"), status = $("status");
  const errorBox = $("error"), errorTitle = $("errorTitle"), errorText = $("errorText"), retry = $("retry");
  const results = $("results"), keyLine = $("key"), list = $("labels");
  const maxLabels = $("maxLabels"), minConfidence = $("minConfidence");

  let file = null;       // the chosen File
  let previewURL = null; // object URL of the preview, revoked when replaced
  let retryKey = null;   // key of an image stored but not labeled
  let busy = false;

  // Relative URLs so the page also works when served under a path prefix.
  const api = (path) => new URL(path, document.baseURI);

  function setStatus(text) { status.textContent = text; }

  function showError(text, key, title) {
    errorTitle.textContent = title || (key ? "Stored, but labeling failed" : "Upload failed");
    errorText.textContent = text;
    retryKey = key || null;
    retry.hidden = !retryKey;
    errorBox.hidden = false;
  }

  function clearError() {
    errorBox.hidden = true;
    errorText.textContent = "";
    retry.hidden = true;
    retryKey = null;
  }

  function setBusy(b) {
    busy = b;
    submit.disabled = b || !file;
    retry.disabled = b;
    results.setAttribute("aria-busy", b ? "true" : "false");
  }

  function choose(f) {
    file = f || null;
    clearError();
    results.hidden = true;
    progress.hidden = true;
    if (previewURL) { URL.revokeObjectURL(previewURL); previewURL = null; }
    if (!file) { preview.hidden = true; setStatus(""); setBusy(busy); return; }
    previewURL = URL.createObjectURL(file);
    preview.src = previewURL;
    preview.hidden = false;
    setStatus(`Ready to upload ${file.name} (${formatBytes(file.size)}).`);
    setBusy(busy);
  }

  function formatBytes(n) {
    if (n < 1024) return `${n} B`;
    if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
    return `${(n / 1024 / 1024).toFixed(1)} MB`;
  }

  // query returns the label options as URL query parameters; empty fields use the server defaults.
  function query() {
    const q = new URLSearchParams();
    if (maxLabels.value.trim() !== "") q.set("maxLabels", maxLabels.value.trim());
    if (minConfidence.value.trim() !== "") q.set("minConfidence", minConfidence.value.trim());
    const s = q.toString();
    return s ? "?" + s : "";
  }

  // errorMessage turns an API response into one plain sentence: the API's
  // {"error":{"code","message"}} message, API Gateway's {"message"}, or the HTTP status.
  function errorMessage(status, statusText, body) {
    let data = null;
    try { data = JSON.parse(body); } catch (_) { /* not JSON */ }
    if (data && data.error && typeof data.error.message === "string" && data.error.message) {
      return { text: data.error.message, key: typeof data.key === "string" ? data.key : null };
    }
    if (data && typeof data.message === "string" && data.message) {
      return { text: `${data.message} (HTTP ${status})`, key: null };
    }
    return { text: `The server answered HTTP ${status}${statusText ? " " + statusText : ""}.`, key: null };
  }

  function validOptions() {
    for (const el of [maxLabels, minConfidence]) {
      if (!el.checkValidity()) {
        showError(`${el.labels[0].firstChild.textContent.trim()}: ${el.validationMessage}`, null, "Check the options");
        el.focus();
        return false;
      }
    }
    return true;
  }

  function upload() {
    if (!file || busy) return;
    clearError();
    if (!validOptions()) return;
    results.hidden = true;
    setBusy(true);
    progress.hidden = false;
    progress.value = 0;
    setStatus(`Uploading ${file.name}…`);

    const body = new FormData();
    body.append("file", file, file.name);
    // XMLHttpRequest, not fetch: fetch has no upload progress events.
    const xhr = new XMLHttpRequest();
    xhr.open("POST", api("upload" + query()));
    xhr.timeout = 120000;
    let lastPct = -1;
    xhr.upload.onprogress = (e) => {
      if (!e.lengthComputable) return;
      const pct = Math.round((e.loaded / e.total) * 100);
      progress.value = pct;
      // Announce in steps of 25% so screen readers are not flooded.
      if (Math.floor(pct / 25) !== Math.floor(lastPct / 25)) {
        setStatus(pct < 100 ? `Uploading ${file.name}: ${pct}%` : `Uploaded ${file.name}; labeling…`);
      }
      lastPct = pct;
    };
    xhr.upload.onload = () => { progress.value = 100; setStatus(`Uploaded ${file.name}; labeling…`); };
    xhr.onload = () => finish(xhr.status, xhr.statusText, xhr.responseText);
    xhr.onerror = () => fail("Could not reach the server. Check your connection and try again.");
    xhr.ontimeout = () => fail("The server took too long to answer. Try again.");
    xhr.onabort = () => fail("The upload was cancelled.");
    xhr.send(body);
  }

  function fail(text, key, title) {
    setBusy(false);
    progress.hidden = true;
    setStatus("");
    showError(text, key, title);
  }

  // finish shows an answer of POST /upload or GET /labels/{key}; title
  // overrides the error box's heading.
  function finish(code, codeText, body, title) {
    setBusy(false);
    progress.hidden = true;
    if (code >= 200 && code < 300) {
      let data;
      try { data = JSON.parse(body); } catch (_) {
        fail("The server sent a response this page cannot read.", null, title);
        return;
      }
      render(data);
      return;
    }
    const m = errorMessage(code, codeText, body);
    fail(m.text, m.key, title);
  }

  async function relabel() {
    if (!retryKey || busy) return;
    if (!validOptions()) return;
    const key = retryKey;
    clearError();
    setBusy(true);
    setStatus(`Labeling ${key}…`);
    const path = "labels/" + key.split("/").map(encodeURIComponent).join("/") + query();
    try {
      const res = await fetch(api(path), { headers: { Accept: "application/json" } });
      finish(res.status, res.statusText, await res.text(), "Labeling failed");
      // Still stored: keep offering the retry unless the key is gone.
      if (!res.ok && !retryKey && res.status !== 404) { retryKey = key; retry.hidden = false; }
    } catch (_) {
      fail("Could not reach the server. Check your connection and try again.", key, "Labeling failed");
    }
  }

  function render(data) {
    const labels = Array.isArray(data.labels) ? data.labels : [];
    list.replaceChildren();
    keyLine.textContent = data.key ? `Stored as ${data.key}` : "";
    for (const l of labels) {
      const li = document.createElement("li");
      li.className = "label";
      const conf = Math.max(0, Math.min(100, Number(l.confidence) || 0));
      const name = document.createElement("span");
      name.className = "name";
      name.textContent = l.name;
      const bar = document.createElement("span");
      bar.className = "bar";
      bar.setAttribute("aria-hidden", "true");
      const fill = document.createElement("span");
      fill.className = "fill";
      fill.style.width = conf.toFixed(1) + "%"; // CSSOM, allowed under style-src 'self'
      bar.append(fill);
      const pct = document.createElement("span");
      pct.className = "pct";
      pct.textContent = conf.toFixed(1) + "%";
      li.append(name, bar, pct);
      const meta = [];
      const parents = (l.parents || []).map((p) => (typeof p === "string" ? p : p && p.name)).filter(Boolean);
      const cats = (l.categories || []).map((c) => (typeof c === "string" ? c : c && c.name)).filter(Boolean);
      if (parents.length) meta.push("in " + parents.join(", "));
      if (cats.length) meta.push(cats.join(", "));
      if (meta.length) {
        const p = document.createElement("p");
        p.className = "meta";
        p.textContent = meta.join(" · ");
        li.append(p);
      }
      list.append(li);
    }
    if (!labels.length) {
      const li = document.createElement("li");
      li.className = "empty";
      li.textContent = "No labels above the confidence threshold.";
      list.append(li);
    }
    results.hidden = false;
    setStatus(`Found ${labels.length} label${labels.length === 1 ? "" : "s"}${file ? " in " + file.name : ""}.`);
  }

  // A file the browser cannot draw is probably not a JPEG or PNG; the
  // service decides by content, so the upload stays possible.
  preview.addEventListener("error", () => {
    preview.hidden = true;
    if (file) setStatus(`${file.name} cannot be previewed; it may not be a JPEG or PNG image.`);
  });
  input.addEventListener("change", () => choose(input.files[0]));
  form.addEventListener("submit", (e) => { e.preventDefault(); upload(); });
  retry.addEventListener("click", relabel);

  // Drag and drop: the drop zone takes the file; elsewhere the drop is
  // swallowed so a missed drop does not navigate away from the page.
  for (const ev of ["dragenter", "dragover"]) {
    drop.addEventListener(ev, (e) => { e.preventDefault(); drop.classList.add("over"); });
  }
  for (const ev of ["dragleave", "drop"]) {
    drop.addEventListener(ev, () => drop.classList.remove("over"));
  }
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    const f = e.dataTransfer && e.dataTransfer.files[0];
    if (!f) return;
    try { input.files = e.dataTransfer.files; } catch (_) { /* older browsers */ }
    choose(f);
  });
  window.addEventListener("dragover", (e) => e.preventDefault());
  window.addEventListener("drop", (e) => e.preventDefault());

  choose(input.files[0]); // a file kept by the browser across reloads
})();
