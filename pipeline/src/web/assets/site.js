/*
 * Draws the deployment diagrams (pre.mermaid) with the bundled copy of Mermaid
 * (assets/mermaid.min.js): no network is needed. Sets data-diagrams on <html>
 * to "done" or "failed" when it has finished, so tests can wait for it.
 */
(function () {
  'use strict';
  var root = document.documentElement;
  var nodes = document.querySelectorAll('pre.mermaid');
  if (nodes.length === 0) return;
  if (!window.mermaid) {
    root.dataset.diagrams = 'failed';
    console.error('brickyard: the bundled Mermaid did not load (assets/mermaid.min.js)');
    return;
  }
  window.mermaid.initialize({
    startOnLoad: false,
    securityLevel: 'strict',
    theme: 'neutral',
    fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
    flowchart: { useMaxWidth: true, htmlLabels: true, curve: 'basis', wrappingWidth: 280, nodeSpacing: 30, rankSpacing: 40 },
  });
  window.mermaid
    .run({ nodes: nodes })
    .then(function () {
      root.dataset.diagrams = 'done';
    })
    .catch(function (e) {
      root.dataset.diagrams = 'failed';
      console.error('brickyard: a deployment diagram could not be drawn:', e && e.message ? e.message : e);
    });
})();
