/* CampaignID offline verifier: the page (camera, file, fragment, cached data, scan log). */
(function () {
  "use strict";
  const V = self.CIDVerifier;
  const DATA_CACHE = "cid-verifier-data-v1";
  const URLS = {keys: "/.well-known/jwks.json", list: "/.well-known/revocations", rules: "/.well-known/verification-rules"};
  const $ = (id) => document.getElementById(id);
  const state = {keys: null, revocations: null, rules: null, fetched: {}};
  let lang = localStorage.getItem("cid-lang") || ((navigator.language || "fr").startsWith("en") ? "en" : "fr");
  const params = new URLSearchParams(location.search);
  if (params.get("lang") === "en" || params.get("lang") === "fr") lang = params.get("lang");

  function t(key, vars) {
    let text = (self.CID_I18N[lang] || self.CID_I18N.fr)[key] || key;
    for (const [k, v] of Object.entries(vars || {})) text = text.replace("{" + k + "}", v);
    return text;
  }

  function age(seconds) {
    if (seconds < 3600) return t("minutes", {n: Math.max(0, Math.round(seconds / 60))});
    if (seconds < 172800) return t("hours", {n: Math.round(seconds / 3600)});
    return t("days", {n: Math.round(seconds / 86400)});
  }

  function day(unix) {
    const d = new Date(unix * 1000);
    return lang === "en" ? d.toLocaleDateString("en-GB", {day: "numeric", month: "short", year: "numeric"})
      : d.toLocaleDateString("fr-FR");
  }

  // --- data: cached once, refreshed when online ---------------------------------------------------
  async function load(kind, bytes) {
    if (kind === "keys") state.keys = await V.importKeys(JSON.parse(new TextDecoder().decode(bytes)));
    else if (kind === "list") state.revocations = await V.loadRevocations(bytes, state.keys);
    else state.rules = await V.loadRules(bytes, state.keys);
  }

  const MAX_DELTAS = 30;  // then a full list again
  const deltaKey = (n) => URLS.list + "?delta=" + n;
  const FRESH = URLS.list + "?fresh";

  async function fromCache() {
    const cache = await caches.open(DATA_CACHE);
    for (const kind of ["keys", "list", "rules"]) {
      const hit = await cache.match(URLS[kind]);
      if (!hit) continue;
      try {
        await load(kind, new Uint8Array(await hit.arrayBuffer()));
        state.fetched[kind] = Number(hit.headers.get("X-Fetched-At")) || 0;
      } catch (e) { console.warn("cached " + kind + " refused", e); }
    }
    const deltas = Number(localStorage.getItem("cid-list-deltas") || 0);
    for (let n = 0; n < deltas && state.revocations; n++) {
      const hit = await cache.match(deltaKey(n));
      if (!hit) break;
      state.revocations = await V.applyRevocationDelta(state.revocations, new Uint8Array(await hit.arrayBuffer()), state.keys);
    }
    const fresh = state.revocations && await cache.match(FRESH);
    if (fresh) {
      try {
        state.revocations = await V.applyRevocationDelta(state.revocations, new Uint8Array(await fresh.arrayBuffer()), state.keys);
      } catch (e) { /* it followed an older state */ }
    }
  }

  async function fetchBytes(url) {
    const response = await fetch(url, {cache: "no-store"});
    if (!response.ok) throw new Error(url + " " + response.status);
    return new Uint8Array(await response.arrayBuffer());
  }

  /** The list: a delta since the version held (small on a slow link), or the full list. */
  async function updateList(cache, now) {
    const deltas = Number(localStorage.getItem("cid-list-deltas") || 0);
    const headers = {headers: {"X-Fetched-At": String(now)}};
    if (state.revocations && deltas < MAX_DELTAS) {
      const bytes = await fetchBytes(URLS.list + "?since=" + state.revocations.version);
      const next = await V.applyRevocationDelta(state.revocations, bytes, state.keys);
      if (next.version === state.revocations.version) {
        await cache.put(FRESH, new Response(bytes, headers));  // nothing new: only a later expiry
      } else {
        await cache.put(deltaKey(deltas), new Response(bytes, headers));
        await cache.delete(FRESH);
        localStorage.setItem("cid-list-deltas", String(deltas + 1));
      }
      state.revocations = next;
      return;
    }
    const bytes = await fetchBytes(URLS.list);
    state.revocations = await V.loadRevocations(bytes, state.keys);
    await cache.put(URLS.list, new Response(bytes, headers));
    await cache.delete(FRESH);
    localStorage.setItem("cid-list-deltas", "0");
  }

  async function update() {
    const status = $("update-status");
    status.textContent = t("updating");
    try {
      const cache = await caches.open(DATA_CACHE);
      const now = Math.floor(Date.now() / 1000);
      for (const kind of ["keys", "rules"]) {
        const bytes = await fetchBytes(URLS[kind]);
        await load(kind, bytes);  // refuses rules whose signature does not verify
        state.fetched[kind] = now;
        await cache.put(URLS[kind], new Response(bytes, {headers: {"X-Fetched-At": String(now)}}));
      }
      await updateList(cache, now);
      state.fetched.list = now;
      status.textContent = t("updated_ok");
    } catch (e) {
      status.textContent = t("update_failed");
    }
    showAges();
  }

  function showAges() {
    const now = Date.now() / 1000, list = state.revocations, rules = state.rules;
    $("keys-age").textContent = state.keys ? t("updated", {age: age(now - state.fetched.keys)}) : t("never");
    $("list-age").textContent = list ? [t("updated", {age: age(now - list.issuedAt)}), t("version", {v: list.version}),
      now >= list.expiresAt ? t("stale") : t("valid_until", {date: new Date(list.expiresAt * 1000).toLocaleString(lang)})]
      .join(" · ") : t("never");
    $("list-age").classList.toggle("stale", !list || now >= list.expiresAt);
    $("rules-age").textContent = rules ? t("updated", {age: age(now - rules.issuedAt)}) : t("never");
    $("network").textContent = navigator.onLine ? t("online") : t("offline");
  }

  // --- verdict ------------------------------------------------------------------------------------
  function row(list, label, value) {
    if (value === null || value === undefined || value === "") return;
    const dt = document.createElement("dt"), dd = document.createElement("dd");
    dt.textContent = label; dd.textContent = value;
    list.append(dt, dd);
  }

  function show(result) {
    const box = $("result");
    box.hidden = false;
    box.className = "result " + result.status.replace("_", "-");
    box.dataset.status = result.status;
    $("result-word").textContent = t(result.status);
    const hint = result.reason && t(result.reason + "_hint") !== result.reason + "_hint" ? result.reason + "_hint"
      : result.status + "_hint";
    $("result-hint").textContent = t(hint);
    const details = $("result-details");
    details.replaceChildren();
    const c = result.claims;
    if (c) {
      row(details, t("name"), c.name);
      row(details, t("birth_year"), c.birthYear);
      row(details, t("programme"), result.programme || c.programme);
      row(details, t("code"), c.code);
      row(details, t("issued"), day(c.issuedAt));
      row(details, t("expires"), day(c.expiresAt));
    }
    logScan(result);
    box.focus();
  }

  async function verifyText(text) {
    show(await V.check(text, state));
  }

  // --- scan log (on this device only) ---------------------------------------------------------------
  function logEntries() { return JSON.parse(localStorage.getItem("cid-scan-log") || "[]"); }

  function logScan(result) {
    if (!$("log-keep").checked) return;
    const entries = logEntries();
    entries.push({at: new Date().toISOString(), code: result.claims ? result.claims.code : "", result: result.status});
    localStorage.setItem("cid-scan-log", JSON.stringify(entries.slice(-5000)));
    showLog();
  }

  function showLog() {
    const n = logEntries().length;
    $("log-count").textContent = t("log_count", {n});
    $("log-export").disabled = n === 0;
  }

  function exportLog() {
    const lines = [["time", "card_code", "result"]].concat(logEntries().map((e) => [e.at, e.code, e.result]));
    const csv = lines.map((l) => l.map((v) => '"' + String(v).replace(/"/g, '""') + '"').join(",")).join("\r\n");
    const link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([csv + "\r\n"], {type: "text/csv"}));
    link.download = "verifications.csv";
    document.body.append(link);
    link.click();
    link.remove();
  }

  // --- camera and file ------------------------------------------------------------------------------
  let stream = null;

  function decodeCanvas(canvas) {
    const ctx = canvas.getContext("2d", {willReadFrequently: true});
    const image = ctx.getImageData(0, 0, canvas.width, canvas.height);
    const found = self.jsQR(image.data, image.width, image.height, {inversionAttempts: "dontInvert"});
    return found ? found.data : null;
  }

  async function startCamera() {
    try {
      stream = await navigator.mediaDevices.getUserMedia({video: {facingMode: "environment"}, audio: false});
    } catch (e) {
      $("scan-message").textContent = t("camera_refused");
      return;
    }
    const video = $("video");
    video.srcObject = stream;
    video.hidden = false;
    await video.play();
    $("scan").textContent = t("stop");
    const canvas = document.createElement("canvas");
    const tick = () => {
      if (!stream) return;
      if (video.videoWidth) {
        canvas.width = video.videoWidth; canvas.height = video.videoHeight;
        canvas.getContext("2d", {willReadFrequently: true}).drawImage(video, 0, 0);
        const text = decodeCanvas(canvas);
        if (text) { stopCamera(); verifyText(text); return; }
      }
      setTimeout(() => requestAnimationFrame(tick), 120);
    };
    tick();
  }

  function stopCamera() {
    if (stream) stream.getTracks().forEach((track) => track.stop());
    stream = null;
    $("video").hidden = true;
    $("scan").textContent = t("scan");
  }

  async function fromFile(file) {
    const bitmap = await createImageBitmap(file);
    const scale = Math.min(1, 1600 / Math.max(bitmap.width, bitmap.height));
    const canvas = document.createElement("canvas");
    canvas.width = Math.round(bitmap.width * scale); canvas.height = Math.round(bitmap.height * scale);
    canvas.getContext("2d", {willReadFrequently: true}).drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    const text = decodeCanvas(canvas);
    if (text) { $("scan-message").textContent = ""; await verifyText(text); }
    else $("scan-message").textContent = t("no_qr");
  }

  // --- page -------------------------------------------------------------------------------------------
  function texts() {
    document.documentElement.lang = lang;
    document.querySelectorAll("[data-t]").forEach((el) => { el.textContent = t(el.dataset.t); });
    $("language").textContent = t("language");
    $("language").lang = t("language_code");
    document.title = t("title") + " · CampaignID";
    showAges();
    showLog();
  }

  async function fromFragment() {
    const hash = location.hash.slice(1);
    if (!/^[0-9]+$/.test(hash)) return;
    history.replaceState(null, "", location.pathname + location.search);  // the token leaves the address bar
    await verifyText("#" + hash);
  }

  async function start() {
    $("scan").addEventListener("click", () => (stream ? stopCamera() : startCamera()));
    $("file").addEventListener("change", (e) => { if (e.target.files[0]) fromFile(e.target.files[0]); e.target.value = ""; });
    $("update").addEventListener("click", update);
    $("log-keep").checked = localStorage.getItem("cid-log-keep") === "1";
    $("log-keep").addEventListener("change", (e) => localStorage.setItem("cid-log-keep", e.target.checked ? "1" : "0"));
    $("log-export").addEventListener("click", exportLog);
    $("log-clear").addEventListener("click", () => { localStorage.removeItem("cid-scan-log"); showLog(); });
    $("language").addEventListener("click", () => { lang = t("language_code"); localStorage.setItem("cid-lang", lang); texts(); });
    window.addEventListener("online", () => { showAges(); update(); });
    window.addEventListener("offline", showAges);
    window.addEventListener("hashchange", fromFragment);
    texts();
    await fromCache();
    showAges();
    document.body.dataset.ready = "cache";
    if ("serviceWorker" in navigator) {
      navigator.serviceWorker.register(document.body.dataset.sw, {scope: document.body.dataset.scope}).catch(() => {});
    }
    let updated = false;
    if (navigator.onLine && !state.keys) { await update(); updated = true; }  // first visit: keys before a check
    await fromFragment();
    if (navigator.onLine && !updated) await update();
    document.body.dataset.ready = "yes";
    setInterval(() => { showAges(); if (navigator.onLine) update(); }, 15 * 60 * 1000);
  }

  self.CIDApp = {state, verifyText, update, fromFile};
  start();
})();
