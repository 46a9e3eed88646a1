// Small behaviours shared by the pages (no inline scripts: the Content-Security-Policy forbids them).
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-seg]");
  if (!button) return;
  button.parentElement.querySelectorAll("[data-seg]").forEach(function (b) { b.classList.toggle("on", b === button); });
});
