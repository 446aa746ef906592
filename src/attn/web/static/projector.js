// The projector: a countdown to the next code, then the new code and QR; the count of
// students checked in. Polls a small JSON state once a second. When the teacher's session
// ends (signed out, or replaced by a sign-in elsewhere) the code would be dead, so it is
// taken off the screen and the page says to sign in again.
(function () {
  var root = document.querySelector(".projector");
  if (!root) return;
  var lesson = root.dataset.lesson;
  var code = document.getElementById("code"), seconds = document.getElementById("seconds");
  var count = document.getElementById("count"), qr = document.getElementById("qr");
  var panel = document.getElementById("code-panel");
  var timer = null;
  function hideCode() {
    if (panel) panel.remove();
    panel = qr = code = seconds = null;
  }
  function signedOut() {
    clearInterval(timer);
    hideCode();
    document.getElementById("signed-out").hidden = false;
  }
  // The state, or null when there is none to show; a redirect, a refusal or an answer that
  // is not the JSON state (a sign-in page) means the session is gone.
  function state(r) {
    var type = r.headers.get("content-type") || "";
    if (r.redirected || r.status === 401 || r.status === 403 ||
        (r.ok && type.indexOf("application/json") !== 0)) {
      signedOut();
      return null;
    }
    return r.ok ? r.json() : null;
  }
  function tick() {
    fetch("/teacher/lessons/" + lesson + "/projector.json", {
      credentials: "same-origin", headers: { Accept: "application/json" }
    })
      .then(state)
      .then(function (now) {
        if (!now) return;
        count.textContent = now.count;
        if (!now.active) {
          // finished: no code or QR that could still be photographed and used
          hideCode();
          return;
        }
        if (code && now.code) {
          if (code.textContent !== now.code) {
            code.textContent = now.code;
            qr.src = "/teacher/lessons/" + lesson + "/qr.svg?c=" + now.code;
          }
          seconds.textContent = now.seconds_left;
        }
      })
      .catch(function () { /* the network or the server blinked: ask again next second */ });
  }
  timer = setInterval(tick, 1000);
})();
