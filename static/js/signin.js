/* The cadre's sign-in page: position from the browser, one client id per
 * attempt (a retry sends the same one, so the server stores it once), the
 * answer shown plainly: does it count, and if not, why.
 * Texts come from the page (translated on the server), in #signin-config. */
(function () {
  "use strict";

  var root = document.getElementById("signin-app");
  var configNode = document.getElementById("signin-config");
  if (!root || !configNode) return;
  var cfg = JSON.parse(configNode.textContent);
  var msg = cfg.messages;

  var button = document.getElementById("signin-button");
  var buttonLabel = button.querySelector(".label");
  var photoInput = document.getElementById("signin-photo");
  var photoName = document.getElementById("signin-photo-name");
  var statusBox = document.getElementById("signin-status");
  var resultBox = document.getElementById("signin-result");

  // The attempt being made: its client id and, once known, its position.
  // Kept until the server has answered, so that a retry reuses both.
  var attempt = null;
  var busy = false;

  function uuid4() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    // Pages served over plain HTTP (not a secure context) lack randomUUID.
    var b = window.crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) {
      return ("0" + x.toString(16)).slice(-2);
    }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" +
      h.slice(16, 20) + "-" + h.slice(20);
  }

  function format(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_, key) {
      return values[key] === undefined ? "" : String(values[key]);
    });
  }

  function showStatus(text, kind) {
    statusBox.textContent = text;
    statusBox.className = "alert fs-5 alert-" + (kind || "info");
    statusBox.classList.toggle("d-none", !text);
  }

  function setBusy(on) {
    busy = on;
    button.disabled = on;
  }

  function locate() {
    return new Promise(function (resolve, reject) {
      if (!("geolocation" in navigator)) {
        reject({ code: "unsupported" });
        return;
      }
      navigator.geolocation.getCurrentPosition(resolve, reject, {
        enableHighAccuracy: true,
        timeout: 20000,
        maximumAge: 0,
      });
    });
  }

  function locationError(error) {
    if (error && error.code === 1) return msg.denied;
    if (error && error.code === 2) return msg.unavailable;
    if (error && error.code === 3) return msg.timeout;
    return msg.unsupported;
  }

  function showResult(data) {
    var headline = resultBox.querySelector("[data-testid=signin-headline]");
    headline.textContent = data.counts ? msg.counts : msg.notCounted;
    resultBox.classList.remove("d-none", "border-success", "border-warning");
    resultBox.classList.add(data.counts ? "border-success" : "border-warning");
    headline.className = "headline " + (data.counts ? "text-success" : "text-warning-emphasis");
    resultBox.querySelector("[data-testid=signin-half]").textContent =
      msg.half[data.half] + " · " + new Date(data.signed_at).toLocaleTimeString();
    resultBox.querySelector("[data-testid=signin-distance]").textContent =
      data.distance_m === null ? msg.noPoint
        : format(msg.distance, { d: data.distance_m, r: cfg.radius });
    resultBox.querySelector("[data-testid=signin-reason]").textContent = data.reason || "";
    resultBox.querySelector("[data-testid=signin-accuracy]").textContent =
      data.accuracy === null ? "" : format(msg.accuracy, { a: Math.round(data.accuracy) });
  }

  function refreshToday() {
    // The halves and today's list, as the server renders them.
    return fetch(cfg.page, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        ["signin-halves", "signin-list", "helplog-link"].forEach(function (id) {
          var fresh = doc.getElementById(id);
          var here = document.getElementById(id);
          if (fresh && here) here.innerHTML = fresh.innerHTML;
        });
      })
      .catch(function () { /* the result shown already says what matters */ });
  }

  function errorText(body) {
    if (!body || typeof body !== "object") return msg.network;
    var parts = [];
    Object.keys(body).forEach(function (key) {
      var value = body[key];
      parts.push(Array.isArray(value) ? value.join(" ") : String(value));
    });
    return parts.join(" ");
  }

  function send() {
    var form = new FormData();
    form.append("client_id", attempt.clientId);
    form.append("latitude", attempt.position.latitude);
    form.append("longitude", attempt.position.longitude);
    if (attempt.position.accuracy !== null) form.append("accuracy", attempt.position.accuracy);
    form.append("taken_at", attempt.position.takenAt);
    if (attempt.photo) form.append("photo", attempt.photo);
    showStatus(msg.sending, "info");
    return fetch(cfg.api, {
      method: "POST",
      body: form,
      credentials: "same-origin",
      headers: { "X-CSRFToken": cfg.csrf, Accept: "application/json" },
    }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (body) {
        return { status: response.status, body: body };
      });
    });
  }

  function signIn() {
    if (busy) return;
    setBusy(true);
    if (attempt === null) {
      attempt = {
        clientId: uuid4(),
        position: null,
        photo: photoInput.files && photoInput.files[0] ? photoInput.files[0] : null,
      };
    }
    var ready = attempt.position ? Promise.resolve() : (function () {
      showStatus(msg.locating, "info");
      return locate().then(function (pos) {
        attempt.position = {
          latitude: pos.coords.latitude,
          longitude: pos.coords.longitude,
          accuracy: typeof pos.coords.accuracy === "number" ? pos.coords.accuracy : null,
          takenAt: new Date(pos.timestamp || Date.now()).toISOString(),
        };
      }, function (error) {
        attempt = null; // nothing was sent: the next tap starts afresh
        throw { located: false, error: error };
      });
    })();

    ready
      .then(function () { return send(); })
      .then(function (answer) {
        if (answer.status === 200 || answer.status === 201) {
          attempt = null;
          photoInput.value = "";
          photoName.textContent = "";
          buttonLabel.textContent = msg.signIn;
          showStatus("", "info");
          showResult(answer.body);
          return refreshToday();
        }
        if (answer.status === 401 || answer.status === 403) {
          attempt = null;
          showStatus(msg.login, "danger");
          return null;
        }
        if (answer.status >= 400 && answer.status < 500) {
          attempt = null; // refused: nothing was stored
          showStatus(errorText(answer.body), "danger");
          return null;
        }
        throw { located: true };
      })
      .catch(function (failure) {
        if (failure && failure.located === false) {
          showStatus(locationError(failure.error), "danger");
          buttonLabel.textContent = msg.signIn;
        } else {
          // Network or server trouble: keep the attempt, retry with the same id.
          showStatus(msg.network, "warning");
          buttonLabel.textContent = msg.retry;
        }
      })
      .then(function () { setBusy(false); });
  }

  button.addEventListener("click", signIn);
  photoInput.addEventListener("change", function () {
    var file = photoInput.files && photoInput.files[0];
    photoName.textContent = file ? file.name : "";
  });
})();
