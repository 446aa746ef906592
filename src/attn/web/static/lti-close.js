// LTI Dynamic Registration: tell the platform that opened this page that the tool is registered.
(function () {
  var target = window.opener || window.parent;
  if (target && target !== window) {
    target.postMessage({ subject: "org.imsglobal.lti.close" }, "*");
  }
})();
