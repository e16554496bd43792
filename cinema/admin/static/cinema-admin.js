// Cinema admin: show the reason when the admin API refuses a request with 403.
//
// piccolo_admin's pages ignore a 403 (a table opened without the right role
// renders blank), and its frontend is a prebuilt bundle we do not fork. This
// script, added to its page by cinema/admin/router.py, watches the page's
// requests to ./api/ and puts the server's sentence ("Your role may not view
// users.") in a banner until the next page change. See docs/admin.md.
(function () {
  "use strict";
  var BANNER_ID = "cinema-admin-notice";
  var open = XMLHttpRequest.prototype.open;
  var send = XMLHttpRequest.prototype.send;

  XMLHttpRequest.prototype.open = function (method, url) {
    this.cinemaUrl = String(url);
    return open.apply(this, arguments);
  };

  XMLHttpRequest.prototype.send = function () {
    var xhr = this;
    xhr.addEventListener("loadend", function () {
      var url = xhr.cinemaUrl || "";
      // Not for `/ids/`: an edit page's foreign-key picker asks for the rows of
      // another table (a comment's author among the users) that the role may not
      // list; the page itself is fine.
      if (xhr.status === 403 && /(^|\/)api\//.test(url) && !/\/ids\/(\?|$)/.test(url)) {
        show(reason(xhr));
      }
    });
    return send.apply(this, arguments);
  };

  function reason(xhr) {
    var fallback = "Your role may not open this page.";
    try {
      var body = xhr.responseType === "json" ? xhr.response : JSON.parse(xhr.responseText);
      return (body && typeof body.detail === "string" && body.detail) || fallback;
    } catch (error) {
      return fallback; // a blob (forms) or a non-JSON body
    }
  }

  function show(message) {
    var banner = document.getElementById(BANNER_ID);
    if (!banner) {
      banner = document.createElement("div");
      banner.id = BANNER_ID;
      banner.setAttribute("role", "alert");
      banner.style.cssText =
        "position:fixed;top:4.5rem;left:50%;transform:translateX(-50%);z-index:10000;" +
        "margin:0;padding:0.75rem 2.75rem 0.75rem 1rem;max-width:40rem;" +
        "background:#b3261e;color:#fff;border-radius:4px;font:15px/1.4 sans-serif;" +
        "box-shadow:0 2px 8px rgba(0,0,0,0.3)";
      var text = document.createElement("span");
      text.className = "cinema-admin-notice-text";
      var close = document.createElement("button");
      close.type = "button";
      close.textContent = "\u00d7";
      close.setAttribute("aria-label", "Close");
      close.style.cssText =
        "position:absolute;top:0.5rem;right:0.5rem;width:auto;height:auto;margin:0;" +
        "padding:0 0.25rem;background:none;border:0;color:#fff;font-size:1.25rem;" +
        "line-height:1;cursor:pointer";
      close.addEventListener("click", hide);
      banner.appendChild(text);
      banner.appendChild(close);
      document.body.appendChild(banner);
    }
    banner.querySelector(".cinema-admin-notice-text").textContent = message;
  }

  function hide() {
    var banner = document.getElementById(BANNER_ID);
    if (banner) {
      banner.remove();
    }
  }

  window.addEventListener("hashchange", hide);
})();
