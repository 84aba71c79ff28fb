// sessionary console: small progressive enhancements; every page works without this script.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // Typing a custom time range selects "Custom range".
  const range = document.getElementById("f-range");
  for (const id of ["f-start", "f-end"]) {
    const input = document.getElementById(id);
    if (range && input) input.addEventListener("change", () => { if (input.value) range.value = "custom"; });
  }
  // Empty filter fields stay out of the URL, so a shared link shows only what was chosen.
  const filters = document.querySelector("form.filters");
  if (filters) filters.addEventListener("submit", () => {
    for (const el of filters.elements) if (el.name && !el.value) el.disabled = true;
  });
});
