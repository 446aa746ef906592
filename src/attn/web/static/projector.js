// The projector: a countdown to the next code, then the new code and QR; the count of
// students checked in. Polls a small JSON state once a second.
(function () {
  var root = document.querySelector(".projector");
  if (!root) return;
  var lesson = root.dataset.lesson;
  var code = document.getElementById("code"), seconds = document.getElementById("seconds");
  var count = document.getElementById("count"), qr = document.getElementById("qr");
  function tick() {
    fetch("/teacher/lessons/" + lesson + "/projector.json", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (state) {
        if (!state) return;
        count.textContent = state.count;
        if (!state.active) {
          // finished: no code or QR that could still be photographed and used
          if (qr) qr.remove();
          if (code) code.textContent = "—";
          if (seconds) seconds.textContent = "0";
          return;
        }
        if (code && state.code) {
          if (code.textContent !== state.code) {
            code.textContent = state.code;
            qr.src = "/teacher/lessons/" + lesson + "/qr.svg?c=" + state.code;
          }
          seconds.textContent = state.seconds_left;
        }
      });
  }
  setInterval(tick, 1000);
})();
