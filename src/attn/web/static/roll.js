// The live roll: on every check-in or change, fetch the roll's HTML again (at most twice a
// second) and swap it in. Without JavaScript the page refreshes itself instead.
(function () {
  var body = document.getElementById("roll-body");
  if (!body || body.dataset.live !== "yes" || !window.EventSource) return;
  var lesson = body.dataset.lesson, pending = null;
  function reload() {
    pending = null;
    fetch("/teacher/lessons/" + lesson + "/roll", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html === null) return;
        // keep a reason being typed: do not replace the table under the cursor
        if (body.contains(document.activeElement) && document.activeElement.tagName === "INPUT") {
          pending = setTimeout(reload, 1000);
          return;
        }
        var doc = new DOMParser().parseFromString(html, "text/html");
        body.innerHTML = doc.body.innerHTML;
      });
  }
  var events = new EventSource("/teacher/lessons/" + lesson + "/live");
  function soon() { if (!pending) pending = setTimeout(reload, 300); }
  // `ready` comes on every (re)connect: check-ins made before it are fetched then
  events.addEventListener("ready", soon);
  events.addEventListener("record", soon);
  // the server ends the stream when the session ends or the lesson is persisted: load the
  // page again (sign-in, or the lesson as it is now) instead of reconnecting
  events.addEventListener("end", function () {
    events.close();
    window.location.reload();
  });
})();
