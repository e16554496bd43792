// The admin's media upload page (cinema/admin/media.py, docs/admin.md): posts the
// chosen file to ../api/media-upload/ with the admin's CSRF token, shows the answer.
(function () {
  "use strict";

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function show(ok, message) {
    var result = document.getElementById("result");
    result.className = ok ? "ok" : "error";
    result.textContent = message;
  }

  document.getElementById("media-upload").addEventListener("submit", function (event) {
    event.preventDefault();
    var form = event.target;
    var file = form.elements.file.files[0];
    if (!file) {
      show(false, "Choose a file.");
      return;
    }
    var body = new FormData();
    body.append("file", file);
    var query = "?movie_id=" + encodeURIComponent(form.elements.movie_id.value) +
      "&kind=" + encodeURIComponent(form.elements.kind.value);
    var button = form.querySelector("button");
    button.disabled = true;
    show(true, "Uploading and checking " + file.name + "...");
    fetch("../api/media-upload/" + query, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken() },
    })
      .then(function (response) {
        return response.json().then(
          function (answer) { return { ok: response.ok, answer: answer }; },
          function () { return { ok: false, answer: { detail: "HTTP " + response.status } }; }
        );
      })
      .then(function (outcome) {
        var detail = outcome.answer && (outcome.answer.detail || outcome.answer.error);
        if (outcome.answer && outcome.answer.code) {
          detail += " (" + outcome.answer.code + ")";
        }
        show(outcome.ok, typeof detail === "string" ? detail : "Failed.");
      })
      .catch(function (error) { show(false, "The upload failed: " + error); })
      .then(function () { button.disabled = false; });
  });
})();
