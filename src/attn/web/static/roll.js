// The live roll: on every check-in or change, fetch the roll's HTML and the change list
// again (at most twice a second) and swap them in. Without JavaScript the page refreshes
// itself instead. When the
// teacher's session ends (signed out, or replaced by a sign-in elsewhere) the page says to
// sign in again instead of pasting the sign-in page into the roll.
(function () {
  var body = document.getElementById("roll-body");
  if (!body || body.dataset.live !== "yes" || !window.EventSource) return;
  var lesson = body.dataset.lesson, pending = null, events = null, ended = false;
  var changes = document.getElementById("changes-body");
  function signedOut() {
    ended = true;
    clearTimeout(pending);
    if (events) events.close();
    document.getElementById("signed-out").hidden = false;
  }
  // The roll's HTML, or null; a redirect, a refusal or an answer that is not the roll's
  // fragment (a sign-in page) means the session is gone.
  function fragment(r) {
    var type = r.headers.get("content-type") || "";
    if (r.redirected || r.status === 401 || r.status === 403 ||
        (r.ok && type.indexOf("text/html") !== 0)) {
      signedOut();
      return null;
    }
    return r.ok ? r.text() : null;
  }
  // The teacher's place in the roll survives the swap: what was typed in its fields (a
  // reason not yet sent) is put back, and the same control (by id, by its form's action and
  // its name and value, or by its link) takes the focus back.
  function keptPlace() {
    var el = document.activeElement, key = null, typed = [];
    Array.prototype.forEach.call(body.querySelectorAll("input[id]:not([type=hidden])"), function (input) {
      if (input.value) typed.push([input.id, input.value]);
    });
    if (el && body.contains(el)) {
      if (el.id) key = "#" + CSS.escape(el.id);
      else if (el.form && el.name) {
        key = 'form[action="' + CSS.escape(el.form.getAttribute("action")) + '"] [name="' +
          CSS.escape(el.name) + '"][value="' + CSS.escape(el.value) + '"]';
      } else if (el.getAttribute("href")) key = 'a[href="' + CSS.escape(el.getAttribute("href")) + '"]';
    }
    return function () {
      typed.forEach(function (field) {
        var again = document.getElementById(field[0]);
        if (again && body.contains(again) && !again.value) again.value = field[1];
      });
      var same = key && body.querySelector(key);
      if (same) same.focus();
    };
  }
  function reload() {
    pending = null;
    fetch("/teacher/lessons/" + lesson + "/roll", { credentials: "same-origin" })
      .then(fragment)
      .then(function (html) {
        if (html === null || ended) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        if (!doc.querySelector(".counts") || doc.querySelector("input[type=password]")) {
          signedOut();
          return;
        }
        // keep a reason being typed or a status being picked: do not replace the table
        // under the cursor
        var tag = document.activeElement ? document.activeElement.tagName : "";
        if (body.contains(document.activeElement) && (tag === "INPUT" || tag === "SELECT")) {
          pending = setTimeout(reload, 1000);
          return;
        }
        // the not-yet list stays open (or closed) as the teacher left it
        var before = document.getElementById("not-yet");
        var open = before ? before.open : false;
        var restore = keptPlace();
        body.innerHTML = doc.body.innerHTML;
        restore();
        var after = document.getElementById("not-yet");
        if (after) after.open = open;
        reloadChanges();
      })
      .catch(function () { /* the network or the server blinked: the next event retries */ });
  }
  // The change list, from the same stream's events.
  function reloadChanges() {
    if (!changes) return;
    var all = changes.dataset.all === "yes" ? "?changes=all" : "";
    fetch("/teacher/lessons/" + lesson + "/changes" + all, { credentials: "same-origin" })
      .then(fragment)
      .then(function (html) {
        if (html === null || ended) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        if (!doc.querySelector("ol.audit")) return;
        changes.innerHTML = doc.body.innerHTML;
      })
      .catch(function () { /* the next event retries */ });
  }
  function soon() { if (!pending && !ended) pending = setTimeout(reload, 300); }
  function listen() {
    events = new EventSource("/teacher/lessons/" + lesson + "/live");
    // `ready` comes on every (re)connect: check-ins made before it are fetched then
    events.addEventListener("ready", soon);
    events.addEventListener("record", soon);
    // The server ends the stream when the session ends or the lesson is persisted: say
    // "signed out" for the first, show the lesson as it is now for the second; never reconnect.
    events.addEventListener("end", function (event) {
      events.close();
      ended = true;
      var reason = "";
      try { reason = JSON.parse(event.data).reason; } catch (e) { reason = ""; }
      if (reason === "session_ended") signedOut();
      else window.location.reload();
    });
    // A stream the server refused (say, 401 once the session ended) is not retried by the
    // browser: find out why from the roll, and listen again unless the session is gone.
    events.addEventListener("error", function () {
      if (ended || events.readyState !== EventSource.CLOSED) return;
      reload();
      setTimeout(function () { if (!ended) listen(); }, 5000);
    });
  }
  listen();
})();
