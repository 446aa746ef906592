// The projector view: a countdown to the next code, then the new code and QR; the count of
// students checked in. Polls its small JSON state (the page's data-state) once a second.
// After the lesson ends it says "check-in closed" with the final count. When the teacher's
// session ends (signed out, or replaced by a sign-in elsewhere) or the projector link is
// revoked, the code would be dead, so it is taken off the screen and the page says why.
// The button and the F key toggle full screen.
//
// On the lesson page: the projector link's Copy button.
(function () {
  var root = document.querySelector(".projector");
  if (root) projector(root);
  var copy = document.getElementById("projector-copy");
  if (copy) copyButton(copy);

  function projector(root) {
    var stateUrl = root.dataset.state, qrUrl = root.dataset.qr;
    var code = document.getElementById("code"), seconds = document.getElementById("seconds");
    var count = document.getElementById("count"), qr = document.getElementById("qr");
    var timer = null;
    function show(id) {
      var element = document.getElementById(id);
      if (element) element.hidden = false;
    }
    function hideCode() {
      ["code-panel", "qr-box"].forEach(function (id) {
        var element = document.getElementById(id);
        if (element) element.remove();
      });
      qr = code = seconds = null;
      root.classList.add("no-code");
    }
    function stop() {
      clearInterval(timer);
      hideCode();
    }
    function closed() {
      hideCode();
      root.classList.add("is-closed");
      show("closed");
    }
    // The refusal of a projector link: revoked, expired (the lesson ended), not valid.
    function refused(r) {
      return r.json().then(function (body) {
        var reason = body && body.error ? body.error.code : "";
        stop();
        if (reason === "projector_link_expired") {
          closed();
          return null;
        }
        root.classList.add("is-refused");  // the count would stand still: not shown
        show(reason === "projector_link_revoked" ? "link-revoked" : "link-invalid");
        return null;
      }, function () { return null; });
    }
    // The state, or null when there is none to show; a redirect, a refusal or an answer that
    // is not the JSON state (a sign-in page) means the teacher's session is gone.
    function state(r) {
      var type = r.headers.get("content-type") || "";
      if (r.status === 404 || r.status === 410) return refused(r);
      if (r.redirected || r.status === 401 || r.status === 403 ||
          (r.ok && type.indexOf("application/json") !== 0)) {
        stop();
        root.classList.add("is-refused");
        show("signed-out");
        return null;
      }
      return r.ok ? r.json() : null;
    }
    function tick() {
      fetch(stateUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(state)
        .then(function (now) {
          if (!now) return;
          count.textContent = now.count;
          if (!now.active) {
            // ended: no code or QR that could still be photographed and used
            closed();
            return;
          }
          if (code && now.code) {
            if (code.textContent !== now.code) {
              code.textContent = now.code;
              qr.src = qrUrl + "?c=" + now.code;
            }
            seconds.textContent = now.seconds_left;
          }
        })
        .catch(function () { /* the network or the server blinked: ask again next second */ });
    }
    timer = setInterval(tick, 1000);

    var button = document.getElementById("fullscreen");
    function toggleFullScreen() {
      if (document.fullscreenElement) document.exitFullscreen();
      else if (document.documentElement.requestFullscreen) {
        document.documentElement.requestFullscreen().catch(function () { /* refused */ });
      }
    }
    if (button) {
      if (!document.fullscreenEnabled) button.hidden = true;
      button.addEventListener("click", toggleFullScreen);
      document.addEventListener("fullscreenchange", function () {
        button.textContent = document.fullscreenElement ? button.dataset.exit : button.dataset.enter;
      });
    }
    document.addEventListener("keydown", function (event) {
      if ((event.key === "f" || event.key === "F") && !event.ctrlKey && !event.metaKey &&
          !event.altKey) {
        event.preventDefault();
        toggleFullScreen();
      }
    });
  }

  function copyButton(button) {
    var field = document.getElementById(button.dataset.copy);
    var done = document.getElementById("projector-copied");
    button.addEventListener("click", function () {
      field.select();
      var copied = navigator.clipboard && window.isSecureContext
        ? navigator.clipboard.writeText(field.value)
        : Promise.resolve(document.execCommand("copy"));
      var shown = function () { if (done) done.hidden = false; };
      // the clipboard API refuses a page that is not focused: the selected text is copied
      // the older way then (and stays selected if that fails too)
      copied.then(shown, function () { if (document.execCommand("copy")) shown(); });
    });
  }
})();
