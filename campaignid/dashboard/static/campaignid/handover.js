// Hand-over page: read a printed card's QR with the phone camera or from a photo (jsQR, vendored), put
// the decoded token in the code field and submit. Without JavaScript the typed code still works.
(function () {
  "use strict";
  var form = document.getElementById("scan-form");
  if (!form || typeof jsQR !== "function") { return; }
  var field = document.getElementById("code");
  var how = document.getElementById("how");
  var status = document.getElementById("scan-status");
  var video = document.getElementById("camera");
  var canvas = document.createElement("canvas");
  var context = canvas.getContext("2d", { willReadFrequently: true });
  var stream = null;

  function say(text) { status.textContent = text; }

  function decode(source, width, height) {
    var scale = Math.min(1, 1000 / Math.max(width, height));
    canvas.width = Math.round(width * scale);
    canvas.height = Math.round(height * scale);
    context.drawImage(source, 0, 0, canvas.width, canvas.height);
    var pixels = context.getImageData(0, 0, canvas.width, canvas.height);
    var found = jsQR(pixels.data, canvas.width, canvas.height, { inversionAttempts: "dontInvert" });
    return found && found.data ? found.data : null;
  }

  // Offline queue: a hand-over recorded without network waits in this phone's storage and is sent when the
  // connection comes back (each one is a plain form post, as if typed again).
  var KEY = "campaignid.handover.queue";
  function queue() { try { return JSON.parse(window.localStorage.getItem(KEY) || "[]"); } catch (e) { return []; } }
  function save(items) { window.localStorage.setItem(KEY, JSON.stringify(items)); }
  function showQueue() {
    var n = queue().length;
    if (n) { say(form.dataset.queued.replace("{n}", n)); }
  }
  function keep(code, kind) {
    var items = queue();
    items.push({ code: code, how: kind });
    save(items);
    field.value = "";
    showQueue();
  }
  function sync() {
    var items = queue();
    if (!items.length || !navigator.onLine) { return; }
    var token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
    var item = items[0];
    var body = new URLSearchParams({ csrfmiddlewaretoken: token, code: item.code, how: item.how });
    window.fetch(form.action || window.location.href, { method: "POST", body: body, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        save(queue().slice(1));
        if (queue().length) { sync(); } else { window.location.reload(); }
      })
      .catch(function () { showQueue(); });
  }
  window.addEventListener("online", sync);

  form.addEventListener("submit", function (event) {
    if (!navigator.onLine) { event.preventDefault(); keep(field.value, how.value); }
  });

  function submit(text) {
    field.value = text;
    how.value = "scan";
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); stream = null; }
    if (!navigator.onLine) { keep(text, "scan"); return; }
    say(form.dataset.found);
    form.submit();
  }

  function scanFrame() {
    if (!stream) { return; }
    if (video.readyState >= 2) {
      var text = decode(video, video.videoWidth, video.videoHeight);
      if (text) { submit(text); return; }
    }
    window.requestAnimationFrame(scanFrame);
  }

  document.getElementById("start-camera").addEventListener("click", function () {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) { say(form.dataset.nocamera); return; }
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (s) {
        stream = s;
        video.srcObject = s;
        video.hidden = false;
        video.play();
        say(form.dataset.scanning);
        window.requestAnimationFrame(scanFrame);
      })
      .catch(function () { say(form.dataset.nocamera); });
  });

  function decodeImage(image, width, height) {
    var text = decode(image, width, height);
    if (text) { submit(text); } else { say(form.dataset.notfound); }
  }

  // No blob: URL (the page's Content-Security-Policy allows images from 'self' and data: only).
  document.getElementById("scan-image").addEventListener("change", function (event) {
    var file = event.target.files && event.target.files[0];
    if (!file) { return; }
    if (window.createImageBitmap) {
      window.createImageBitmap(file).then(function (bitmap) { decodeImage(bitmap, bitmap.width, bitmap.height); },
                                          function () { say(form.dataset.notfound); });
      return;
    }
    var reader = new FileReader();
    reader.onload = function () {
      var image = new Image();
      image.onload = function () { decodeImage(image, image.naturalWidth, image.naturalHeight); };
      image.src = reader.result;
    };
    reader.readAsDataURL(file);
  });
  showQueue();
  sync();
}());
