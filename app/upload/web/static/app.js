// The imagelabel page: choose or drop an image, upload it with progress,
// show its labels. Plain JS, no dependencies, no inline script (CSP: script-src 'self').
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const form = $("form"), input = $("file"), drop = $("drop"), preview = $("preview");
  const submit = $("submit"), progress = $("progress"), status = $("status");
  const errorBox = $("error"), errorTitle = $("errorTitle"), errorText = $("errorText"), retry = $("retry");
  const errorDetail = $("errorDetail"), lead = $("lead"), labelerNote = $("labeler");
  const results = $("results"), keyLine = $("key"), list = $("labels");
  const maxLabels = $("maxLabels"), minConfidence = $("minConfidence");

  let file = null;       // the chosen File
  let previewURL = null; // object URL of the preview, revoked when replaced
  let retryKey = null;   // key of an image stored but not labeled
  let retryName = "";    // file name of that image
  let busy = false;
  let maxUpload = null;  // the server's body limit (GET /getInfo maxUploadBytes), once known
  let signedOnly = false; // GET /getInfo apiAuth is "iam": uploads need signed requests, which a page cannot make

  // Relative URLs so the page also works when served under a path prefix.
  const api = (path) => new URL(path, document.baseURI);

  function setStatus(text) { status.textContent = text; }

  // showError shows a sentence for people and, below it, the server's own
  // words (detail) when there are any.
  function showError(text, key, title, detail) {
    errorTitle.textContent = title || (key ? "Stored, but labeling failed" : "Upload failed");
    errorText.textContent = text;
    errorDetail.textContent = detail ? `The server said: ${detail}` : "";
    errorDetail.hidden = !detail;
    retryKey = key || null;
    retry.hidden = !retryKey;
    errorBox.hidden = false;
    errorBox.scrollIntoView({ block: "nearest", behavior: scrollBehavior() });
  }

  function clearError() {
    errorBox.hidden = true;
    errorText.textContent = "";
    errorDetail.textContent = "";
    errorDetail.hidden = true;
    retry.hidden = true;
    retryKey = null;
  }

  function scrollBehavior() {
    return matchMedia("(prefers-reduced-motion: reduce)").matches ? "auto" : "smooth";
  }

  function setBusy(b) {
    busy = b;
    submit.disabled = b || !file || tooLarge(file) || signedOnly;
    retry.disabled = b;
    results.setAttribute("aria-busy", b ? "true" : "false");
  }

  function choose(f) {
    file = f || null;
    clearError();
    results.hidden = true;
    progress.hidden = true;
    if (previewURL) { URL.revokeObjectURL(previewURL); previewURL = null; }
    if (!file || !checkSize()) { preview.hidden = true; if (!file) setStatus(""); setBusy(busy); return; }
    previewURL = URL.createObjectURL(file);
    preview.src = previewURL;
    preview.hidden = false;
    setStatus(`Ready to upload ${file.name} (${formatBytes(file.size)}).`);
    setBusy(busy);
  }

  // framing is an upper bound of the multipart framing around f in the
  // request body, which the server's limit counts too: the boundary lines
  // (a boundary is at most 70 characters, RFC 2046) and the part's headers.
  function framing(f) {
    const boundary = 70;
    const name = new TextEncoder().encode(f.name).length + 2 * (f.name.match(/["\r\n]/g) || []).length;
    const type = (f.type || "application/octet-stream").length;
    return (2 + boundary + 2) +
      'Content-Disposition: form-data; name="file"; filename=""\r\n'.length + name +
      "Content-Type: \r\n\r\n".length + type +
      (2 + 2 + boundary + 2 + 2);
  }

  // tooLarge reports whether the server would refuse f for its size.
  function tooLarge(f) {
    return !!f && maxUpload !== null && f.size + framing(f) > maxUpload;
  }

  // checkSize refuses the chosen file before anything is sent when it is
  // over the server's limit.
  // It states the limit as the server's 413 does ("larger than 10 MiB"):
  // one number, the whole upload's, not the image's share of it.
  function checkSize() {
    if (!tooLarge(file)) return true;
    showError(`${file.name} is ${formatBytes(file.size)}, more than this server accepts ` +
      `(${formatBytes(maxUpload)} per upload, form data included). Choose a smaller image, or save this one ` +
      "with fewer pixels or a lower JPEG quality.", null, "File too large");
    setStatus("");
    return false;
  }

  // formatBytes uses the IEC units of the services' messages and the client:
  // whole multiples without decimals ("10 MiB"), else one decimal ("9.6 MiB").
  function formatBytes(n) {
    if (n < 1024) return `${n} B`;
    const [v, unit] = n < 1024 * 1024 ? [n / 1024, "KiB"] : [n / 1024 / 1024, "MiB"];
    return Number.isInteger(v) ? `${v} ${unit}` : `${v.toFixed(1)} ${unit}`;
  }

  // query returns the label options as URL query parameters; empty fields use the server defaults.
  function query() {
    const q = new URLSearchParams();
    if (maxLabels.value.trim() !== "") q.set("maxLabels", maxLabels.value.trim());
    if (minConfidence.value.trim() !== "") q.set("minConfidence", minConfidence.value.trim());
    const s = q.toString();
    return s ? "?" + s : "";
  }

  // sentences say, for people, what an API error code means for the file
  // named; the API's own message is shown below as detail.
  const sentences = {
    too_large: (n) => `${n} is larger than this server accepts. Choose a smaller image, or save this one with fewer pixels or a lower JPEG quality.`,
    dimensions_too_large: (n) => `${n} has more pixels than the labeler can take. Scale it down and try again.`,
    unsupported_media_type: (n) => `${n} is not a JPEG or PNG image. Choose a picture saved in one of those formats.`,
    malformed_image: (n) => `${n} looks like a JPEG or PNG but is damaged or incomplete. Try saving it again.`,
    empty_file: (n) => `${n} is empty.`,
    unprocessable_image: (n) => `The labeler could not read ${n}, though it looks like a JPEG or PNG. Try another image, or save this one again.`,
    invalid_option: () => "One of the options is not accepted. Check Max labels and Min confidence.",
    not_found: (n) => `${n} is no longer stored. Upload it again.`,
    store_failed: (n) => `${n} could not be stored. Try again in a moment.`,
    unavailable: (n) => `The labeler is busy or unreachable, so ${n} has no labels yet. Try again in a moment.`,
    timeout: (n) => `Labeling ${n} took too long. Try again in a moment.`,
    upstream_error: (n) => `Something behind this server failed while handling ${n}. Try again in a moment.`,
    internal: (n) => `The server failed unexpectedly while handling ${n}. Try again; if it keeps failing, tell whoever runs it.`,
  };

  // errorMessage turns an API error answer about the file named into a
  // sentence for people, the server's own words as detail (the API's
  // {"error":{"code","message"}}, API Gateway's {"message"}, or the HTTP
  // status), and the key when the image is stored.
  function errorMessage(name, status, statusText, body) {
    let data = null;
    try { data = JSON.parse(body); } catch (_) { /* not JSON */ }
    const key = data && typeof data.key === "string" ? data.key : null;
    let detail = `HTTP ${status}${statusText ? " " + statusText : ""}`;
    let code = "";
    if (data && data.error && typeof data.error.message === "string" && data.error.message) {
      detail = data.error.message;
      code = String(data.error.code || "");
    } else if (data && typeof data.message === "string" && data.message) {
      detail = `${data.message} (HTTP ${status})`; // API Gateway's own answers
    }
    if (!code) code = { 413: "too_large", 429: "unavailable", 503: "unavailable", 504: "timeout" }[status] || "";
    const say = sentences[code];
    let text = say ? say(name) : `The server could not handle ${name}.`;
    if (key) text += " The image is stored: press Retry labeling to try again.";
    return { text, key, detail };
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
    if (!checkSize()) return;
    if (!validOptions()) return;
    results.hidden = true;
    setBusy(true);
    progress.hidden = false;
    progress.value = 0;
    setStatus(`Uploading ${file.name}…`);

    const body = new FormData();
    body.append("file", file, file.name);
    const name = file.name;
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
    xhr.onload = () => finish(name, xhr.status, xhr.statusText, xhr.responseText);
    xhr.onerror = () => fail(`Could not reach the server to upload ${name}. Check your connection and try again.`);
    xhr.ontimeout = () => fail(`The server took too long to answer about ${name}. Try again.`);
    xhr.onabort = () => fail(`The upload of ${name} was cancelled.`);
    xhr.send(body);
  }

  function fail(text, key, title, detail) {
    setBusy(false);
    progress.hidden = true;
    setStatus("");
    showError(text, key, title, detail);
  }

  // finish shows an answer of POST /upload or GET /labels/{key} about the
  // file named; title overrides the error box's heading.
  function finish(name, code, codeText, body, title) {
    setBusy(false);
    progress.hidden = true;
    if (code >= 200 && code < 300) {
      let data;
      try { data = JSON.parse(body); } catch (_) {
        fail(`The server sent an answer about ${name} that this page cannot read.`, null, title);
        return;
      }
      render(data);
      return;
    }
    const m = errorMessage(name, code, codeText, body);
    if (m.key) retryName = name;
    fail(m.text, m.key, title, m.detail);
  }

  async function relabel() {
    if (!retryKey || busy) return;
    if (!validOptions()) return;
    const key = retryKey, name = retryName || key;
    clearError();
    setBusy(true);
    setStatus(`Labeling ${name}…`);
    const path = "labels/" + key.split("/").map(encodeURIComponent).join("/") + query();
    try {
      const res = await fetch(api(path), { headers: { Accept: "application/json" } });
      finish(name, res.status, res.statusText, await res.text(), "Labeling failed");
      // Still stored: keep offering the retry unless the key is gone.
      if (!res.ok && !retryKey && res.status !== 404) { retryKey = key; retry.hidden = false; }
    } catch (_) {
      fail(`Could not reach the server to label ${name}. Check your connection and try again.`, key, "Labeling failed");
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
    // On a phone the results start below the preview, out of sight.
    results.scrollIntoView({ block: "start", behavior: scrollBehavior() });
  }

  // info learns the server's body limit and what labels the images from
  // GET /getInfo; without it the page works as before (the server still
  // refuses what is too large).
  async function info() {
    try {
      const res = await fetch(api("getInfo"), { headers: { Accept: "application/json" } });
      if (!res.ok) return;
      const data = await res.json();
      if (Number.isSafeInteger(data.maxUploadBytes) && data.maxUploadBytes > 0) {
        maxUpload = data.maxUploadBytes;
        if (file && !busy) { checkSize(); setBusy(busy); }
      }
      if (data.apiAuth === "iam") {
        signedOnly = true;
        document.getElementById("signed").hidden = false;
        setBusy(busy);
      }
      if (typeof data.labeler === "string" && data.labeler && data.labeler !== "Amazon Rekognition") {
        lead.textContent = `Upload a JPEG or PNG image and see the labels from the ${data.labeler}; this server does not use Amazon Rekognition.`;
        // Said again under the results: after an upload the page scrolls
        // there, past the lead.
        labelerNote.textContent = `These labels are from the ${data.labeler}, not Amazon Rekognition.`;
        labelerNote.hidden = false;
      }
    } catch (_) { /* offline or not this API: keep the defaults */ }
  }

  // A file the browser cannot draw is probably not a JPEG or PNG; the
  // service decides by content, so the upload stays possible.
  preview.addEventListener("error", () => {
    preview.hidden = true;
    if (file) setStatus(`${file.name} cannot be previewed; it may not be a JPEG or PNG image.`);
  });
  input.addEventListener("change", () => choose(input.files[0]));
  form.addEventListener("submit", (e) => { e.preventDefault(); if (!signedOnly) upload(); });
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
  info();
})();
