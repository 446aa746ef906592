// The result page of a check-in waiting for verification: asks for the student's own record
// every few seconds until it is no longer pending, then shows the result in the page's
// language (the status line is aria-live, so a screen reader says it). Stops for good when
// the session has ended or the record is gone; a reload then shows what is known.
(function () {
  var result = document.getElementById("result");
  if (!result || !result.dataset.poll) return;
  var url = result.dataset.poll, waiting = document.getElementById("waiting");
  var timer = setInterval(poll, 3000);
  function stop() {
    clearInterval(timer);
  }
  function show(record) {
    stop();
    result.className = "result " + record.status;
    result.textContent = record.text;
    if (waiting) waiting.remove();
  }
  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) {
        var type = r.headers.get("content-type") || "";
        if (r.redirected || !r.ok || type.indexOf("application/json") !== 0) {
          if (r.status !== 503) stop();  // a store's blip: ask again next time
          return null;
        }
        return r.json();
      })
      .then(function (record) {
        if (record && !record.pending) show(record);
      })
      .catch(function () {});  // offline for a moment: ask again next time
  }
})();
