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

  function submit(text) {
    field.value = text;
    how.value = "scan";
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); stream = null; }
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
}());
