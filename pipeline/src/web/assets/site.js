/*
 * The catalogue site's one script, no network:
 * - search and filters on the index (system, GPU vendor, licence, status), over data attributes;
 * - sortable tables (the buttons in column headings);
 * - copy buttons next to commands;
 * - the deployment diagrams: the bundled Mermaid (assets/mermaid.min.js, ~3 MB) is loaded once,
 *   and only when a diagram comes into view. <html data-diagrams> counts the diagrams drawn and
 *   says "failed" when one could not be, so tests can wait for it.
 */
(function () {
  'use strict';
  var root = document.documentElement;

  // --- Search and filters -------------------------------------------------------------------
  var controls = document.querySelectorAll('[data-filter]');
  function applyFilters() {
    var f = {};
    controls.forEach(function (c) {
      f[c.dataset.filter] = c.value.trim().toLowerCase();
    });
    var shown = 0;
    var total = 0;
    document.querySelectorAll('table.filterable').forEach(function (table) {
      var any = false;
      table.querySelectorAll('tbody tr[data-recipe]').forEach(function (tr) {
        var d = tr.dataset;
        var ok =
          (!f.q || d.search.indexOf(f.q) >= 0) &&
          (!f.system || (' ' + d.systems + ' ').indexOf(' ' + f.system + ' ') >= 0) &&
          (!f.gpu || d.gpu === f.gpu) &&
          (!f.licence || d.licence.toLowerCase() === f.licence) &&
          (!f.status || (' ' + d.status + ' ').indexOf(' ' + f.status + ' ') >= 0);
        tr.hidden = !ok;
        if (ok) any = true;
        if (table.classList.contains('list')) {
          total++;
          if (ok) shown++;
        }
      });
      // The matrix shows only the chosen system's columns.
      table.querySelectorAll('[data-system]').forEach(function (cell) {
        cell.hidden = !!f.system && cell.dataset.system !== f.system;
      });
      var empty = table.closest('section') && table.closest('section').querySelector('.empty');
      if (empty) empty.hidden = any;
    });
    var count = document.getElementById('f-count');
    if (count) count.textContent = shown + ' of ' + total + ' recipe versions shown.';
  }
  controls.forEach(function (c) {
    c.addEventListener('input', applyFilters);
    c.addEventListener('change', applyFilters);
  });
  document.querySelectorAll('form.filters').forEach(function (form) {
    form.addEventListener('submit', function (e) {
      e.preventDefault();
    });
  });

  // --- Sorting --------------------------------------------------------------------------------
  document.querySelectorAll('table.sortable th button[data-sort]').forEach(function (button) {
    button.addEventListener('click', function () {
      var th = button.closest('th');
      var table = button.closest('table');
      var col = Number(button.dataset.sort);
      var ascending = th.getAttribute('aria-sort') !== 'ascending';
      table.querySelectorAll('thead th').forEach(function (x) {
        x.removeAttribute('aria-sort');
      });
      th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      var key = function (tr) {
        var cell = tr.cells[col];
        if (!cell) return '';
        return cell.dataset.value !== undefined ? Number(cell.dataset.value) : cell.textContent.trim().toLowerCase();
      };
      rows.sort(function (a, b) {
        var x = key(a);
        var y = key(b);
        var c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y), 'en', { numeric: true });
        return ascending ? c : -c;
      });
      rows.forEach(function (tr) {
        body.appendChild(tr);
      });
    });
  });

  // --- Copy buttons ---------------------------------------------------------------------------
  document.querySelectorAll('.copy').forEach(function (box) {
    var button = box.querySelector('.copy-btn');
    var pre = box.querySelector('pre');
    if (!button || !pre || !navigator.clipboard) return;
    button.hidden = false;
    button.setAttribute('aria-label', 'Copy: ' + (pre.getAttribute('aria-label') || 'command'));
    button.addEventListener('click', function () {
      navigator.clipboard.writeText(pre.textContent).then(
        function () {
          button.textContent = 'Copied';
          setTimeout(function () {
            button.textContent = 'Copy';
          }, 2000);
        },
        function () {
          button.textContent = 'Select and copy';
        },
      );
    });
  });

  // --- Diagrams, drawn lazily ---------------------------------------------------------------
  var src = document.body.dataset.mermaid;
  var diagrams = document.querySelectorAll('pre.mermaid');
  if (!src || diagrams.length === 0) return;
  var loading;
  var drawn = 0;
  root.dataset.diagrams = '0';
  function loadMermaid() {
    if (!loading) {
      loading = new Promise(function (resolve, reject) {
        var s = document.createElement('script');
        s.src = src;
        s.onload = function () {
          if (!window.mermaid) return reject(new Error('the bundled Mermaid did not define window.mermaid'));
          window.mermaid.initialize({
            startOnLoad: false,
            securityLevel: 'strict',
            theme: 'neutral',
            fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
            flowchart: { useMaxWidth: true, htmlLabels: true, curve: 'basis', wrappingWidth: 280, nodeSpacing: 30, rankSpacing: 40 },
          });
          resolve(window.mermaid);
        };
        s.onerror = function () {
          reject(new Error('the bundled Mermaid did not load (' + src + ')'));
        };
        document.head.appendChild(s);
      });
    }
    return loading;
  }
  function draw(pre) {
    loadMermaid()
      .then(function (mermaid) {
        return mermaid.run({ nodes: [pre] });
      })
      .then(function () {
        var svg = pre.querySelector('svg');
        var caption = pre.closest('figure') && pre.closest('figure').querySelector('figcaption');
        if (svg) {
          svg.setAttribute('role', 'img');
          if (caption && caption.id) svg.setAttribute('aria-labelledby', caption.id);
        }
        pre.removeAttribute('aria-label');
        drawn++;
        if (root.dataset.diagrams !== 'failed') root.dataset.diagrams = String(drawn);
      })
      .catch(function (e) {
        root.dataset.diagrams = 'failed';
        console.error('brickyard: a deployment diagram could not be drawn:', e && e.message ? e.message : e);
      });
  }
  if (!('IntersectionObserver' in window)) {
    diagrams.forEach(draw);
    return;
  }
  var seen = new IntersectionObserver(
    function (entries) {
      entries.forEach(function (entry) {
        if (!entry.isIntersecting) return;
        seen.unobserve(entry.target);
        draw(entry.target);
      });
    },
    { rootMargin: '200px' },
  );
  diagrams.forEach(function (pre) {
    seen.observe(pre);
  });
})();
