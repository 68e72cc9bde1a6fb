// The pages' own script, loaded as a module (never inline, for the
// Content-Security-Policy): mark the page as run with JavaScript, as the NHS.UK
// frontend's template does, and start its components. Every page works without it.
import { initAll } from "../vendor/nhsuk-frontend/nhsuk-frontend.min.js";

document.body.classList.add("js-enabled", "nhsuk-frontend-supported");
initAll();
