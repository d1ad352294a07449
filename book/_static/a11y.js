/* course-nn: accessibility fixes for what the theme (sphinx-book-theme 1.3 on
 * pydata-sphinx-theme 0.17) and docutils leave open, found by axe-core in
 * tests/test_accessibility.py. Design: docs/accessibility.md. */
"use strict";

function courseNnA11y() {
  // WCAG 2.5.3 (label in name): the search buttons show "Search Ctrl+K" but are
  // labelled "Search"; without the label their name is their visible text.
  document.querySelectorAll(".search-button-field[aria-label]").forEach((button) => {
    button.removeAttribute("aria-label");
  });
  // Same rule: myst-nb's hidden-cell toggles (<summary>) and sphinx-togglebutton's
  // buttons show "Show code cell source" and the like but are labelled "Toggle hidden
  // content"; their visible text is the better name.
  document.querySelectorAll('[aria-label="Toggle hidden content"]').forEach((toggle) => {
    if (toggle.textContent.trim()) toggle.removeAttribute("aria-label");
  });
  // Same rule: the colour-mode button's icons carry titles ("Light", "Dark", ...) that
  // are not in its name "Color mode". The icons are decoration; Font Awesome turns them
  // into <svg><title> later, so strip the titles now and whenever the icons change.
  document.querySelectorAll(".theme-switch-button").forEach((button) => {
    const untitle = () => button.querySelectorAll(".theme-switch").forEach((icon) => {
      icon.removeAttribute("title");
      icon.removeAttribute("aria-labelledby");
      icon.setAttribute("aria-hidden", "true");
      icon.querySelectorAll("title").forEach((title) => title.remove());
    });
    untitle();
    if (!button.dataset.a11yObserved) {
      button.dataset.a11yObserved = "yes";
      new MutationObserver(untitle).observe(button, { childList: true });
    }
  });
  // WCAG 1.3.1 (landmarks): the primary sidebar (book title, search, chapter list)
  // is not in a landmark; mark it as the site's complementary navigation area.
  document.querySelectorAll(".bd-sidebar-primary").forEach((sidebar) => {
    if (!sidebar.getAttribute("role")) {
      sidebar.setAttribute("role", "complementary");
      sidebar.setAttribute("aria-label", "Book navigation");
    }
  });
  // WCAG 4.1.2: docutils writes the bibliography as role="list" whose entries have
  // the deprecated role doc-biblioentry, so the list has no list items.
  document.querySelectorAll('[role="list"] > [role="doc-biblioentry"]').forEach((entry) => {
    entry.setAttribute("role", "listitem");
  });
}

// Again once everything has loaded: other scripts (togglebutton) add elements on
// DOMContentLoaded, possibly after this one. Every fix can be applied twice.
if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", courseNnA11y);
} else {
  courseNnA11y();
}
window.addEventListener("load", courseNnA11y);
