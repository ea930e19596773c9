// The API documentation page: Swagger UI (vendored) on the app's own OpenAPI description.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var holder = document.getElementById("swagger-ui");
    if (!holder || typeof window.SwaggerUIBundle !== "function") return;
    window.SwaggerUIBundle({ url: holder.getAttribute("data-openapi"), domNode: holder });
  });
})();
