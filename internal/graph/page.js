(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('graph-data').textContent);
  var SVGNS = 'http://www.w3.org/2000/svg';
  var COL = { principal: 0, user: 1, group: 1, binding: 2, role: 3 };
  var HEADS = ['IAM principals (mapping entries)', 'Kubernetes users and groups', 'RoleBindings / ClusterRoleBindings', 'Roles / ClusterRoles'];
  var W = 270, GAPX = 110, H = 36, GAPY = 8, TOP = 40, LEFT = 16, CHARS = 42;

  var byId = {}, outE = {}, inE = {};
  data.nodes.forEach(function (n) { byId[n.id] = n; outE[n.id] = []; inE[n.id] = []; });
  data.edges.forEach(function (e) {
    if (byId[e.from] && byId[e.to]) { outE[e.from].push(e); inE[e.to].push(e); }
  });

  function reach(ids, dir, into) {
    var seen = into || {};
    var stack = ids.slice();
    while (stack.length) {
      var id = stack.pop();
      if (seen[id]) { continue; }
      seen[id] = true;
      (dir === 'down' ? outE[id] : inE[id]).forEach(function (e) { stack.push(dir === 'down' ? e.to : e.from); });
    }
    return seen;
  }

  function matches(n, q) {
    var hay = (n.label + ' ' + (n.detail || []).join(' ')).toLowerCase();
    return hay.indexOf(q) >= 0;
  }

  function nsOf(n) { return n.namespace ? n.namespace : '(cluster-wide)'; }

  // visible: the principals the filter names and everything they reach; a
  // namespace keeps only the bindings there and the paths to and from them.
  function visible(q, ns) {
    if (!q && !ns) {
      var all = {};
      data.nodes.forEach(function (n) { all[n.id] = true; });
      return all;
    }
    var starts = data.nodes.filter(function (n) { return n.kind === 'principal' && (!q || matches(n, q)); });
    var vis = reach(starts.map(function (n) { return n.id; }), 'down');
    if (starts.some(function (n) { return !n.inactive; })) {
      data.nodes.forEach(function (n) { if (n.implicit) { reach([n.id], 'down', vis); } });
    }
    if (!ns) { return vis; }
    var targets = data.nodes.filter(function (n) { return n.kind === 'binding' && vis[n.id] && nsOf(n) === ns; })
      .map(function (n) { return n.id; });
    var keep = reach(targets, 'down');
    var up = reach(targets, 'up');
    Object.keys(up).forEach(function (id) { keep[id] = true; });
    var out = {};
    Object.keys(keep).forEach(function (id) { if (vis[id]) { out[id] = true; } });
    return out;
  }

  // layout: four columns; within each, nodes ordered by the mean position
  // of their neighbours (a few sweeps each way) to keep arrows short.
  function layout(vis) {
    var cols = [[], [], [], []];
    data.nodes.forEach(function (n) { if (vis[n.id]) { cols[COL[n.kind]].push(n); } });
    var pos = {};
    function number() { cols.forEach(function (c) { c.forEach(function (n, i) { pos[n.id] = i; }); }); }
    function sweep(c, dir) {
      var bary = {};
      cols[c].forEach(function (n, i) {
        var es = dir === 'down' ? inE[n.id] : outE[n.id];
        var s = 0, k = 0;
        es.forEach(function (e) {
          var o = dir === 'down' ? e.from : e.to;
          if (vis[o]) { s += pos[o]; k++; }
        });
        bary[n.id] = k ? s / k : i;
      });
      cols[c].sort(function (a, b) { return bary[a.id] - bary[b.id] || pos[a.id] - pos[b.id]; });
      cols[c].forEach(function (n, i) { pos[n.id] = i; });
    }
    number();
    for (var it = 0; it < 4; it++) {
      for (var c = 1; c < 4; c++) { sweep(c, 'down'); }
      for (c = 2; c >= 0; c--) { sweep(c, 'up'); }
    }
    var xy = {}, height = TOP;
    cols.forEach(function (col, c) {
      var y = TOP;
      col.forEach(function (n) {
        var want = y;
        if (c > 0) {
          var s = 0, k = 0;
          inE[n.id].forEach(function (e) { if (xy[e.from]) { s += xy[e.from].y; k++; } });
          if (k) { want = Math.max(y, s / k); }
        }
        xy[n.id] = { x: LEFT + c * (W + GAPX), y: want };
        y = want + H + GAPY;
      });
      height = Math.max(height, y);
    });
    return { xy: xy, height: height + 20 };
  }

  function el(name, attrs, parent) {
    var e = document.createElementNS(SVGNS, name);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (parent) { parent.appendChild(e); }
    return e;
  }

  function clip(s) { return s.length > CHARS ? s.slice(0, CHARS - 1) + '\u2026' : s; }

  function secondLine(n) {
    if (n.inactive) { return n.reason; }
    if (n.masters) { return 'unrestricted: no binding needed'; }
    if (n.implicit) { return 'every authenticated principal'; }
    if (n.missing) { return 'missing: grants nothing'; }
    if (n.kind === 'principal') { return n.backend; }
    return '';
  }

  var svg = document.getElementById('graph');
  var detail = document.getElementById('detail');
  var selected = null;

  function draw() {
    var q = document.getElementById('principal').value.trim().toLowerCase();
    var ns = document.getElementById('namespace').value;
    var vis = visible(q, ns);
    var lay = layout(vis);
    while (svg.firstChild) { svg.removeChild(svg.firstChild); }
    svg.setAttribute('width', LEFT * 2 + 4 * W + 3 * GAPX);
    svg.setAttribute('height', lay.height);
    HEADS.forEach(function (h, c) {
      var t = el('text', { x: LEFT + c * (W + GAPX), y: 22, 'class': 'colhead' }, svg);
      t.textContent = h;
    });
    var edges = el('g', { 'class': 'edges' }, svg);
    data.edges.forEach(function (e) {
      var a = lay.xy[e.from], b = lay.xy[e.to];
      if (!a || !b) { return; }
      var x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x, y2 = b.y + H / 2, dx = GAPX / 2;
      var p = el('path', {
        d: 'M' + x1 + ',' + y1 + ' C' + (x1 + dx) + ',' + y1 + ' ' + (x2 - dx) + ',' + y2 + ' ' + x2 + ',' + y2,
        'class': 'edge' + (e.dashed ? ' dashed' : ''), 'data-from': e.from, 'data-to': e.to
      }, edges);
      if (e.label) { el('title', {}, p).textContent = e.label; }
    });
    var nodes = el('g', { 'class': 'nodes' }, svg);
    var shown = 0;
    data.nodes.forEach(function (n) {
      var at = lay.xy[n.id];
      if (!at) { return; }
      shown++;
      var cls = 'node ' + n.kind + (n.inactive ? ' inactive' : '') + (n.masters ? ' masters' : '') + (n.missing ? ' missing' : '');
      var g = el('g', { 'class': cls, 'data-id': n.id, transform: 'translate(' + at.x + ',' + at.y + ')' }, nodes);
      el('rect', { width: W, height: H, rx: n.kind === 'principal' ? 8 : (n.kind === 'user' || n.kind === 'group' ? 16 : 2) }, g);
      var second = secondLine(n);
      var t1 = el('text', { x: 8, y: second ? 15 : 22 }, g);
      t1.textContent = clip(n.label);
      if (second) {
        var t2 = el('text', { x: 8, y: 29, 'font-size': '10' }, g);
        t2.textContent = clip(second);
      }
      el('title', {}, g).textContent = [n.label].concat(n.detail || []).join('\n');
      g.addEventListener('click', function (ev) { ev.stopPropagation(); select(n.id); });
    });
    document.getElementById('count').textContent = 'showing ' + shown + ' of ' + data.nodes.length + ' nodes';
    if (selected && !lay.xy[selected]) { selected = null; }
    highlight();
  }

  function select(id) {
    selected = selected === id ? null : id;
    highlight();
  }

  function highlight() {
    var on = null;
    if (selected) {
      on = reach([selected], 'down');
      reach([selected], 'up', on);
      var n = byId[selected];
      detail.textContent = [n.label].concat(n.detail || []).join('\n');
      detail.style.display = 'block';
    } else {
      detail.style.display = 'none';
    }
    Array.prototype.forEach.call(svg.querySelectorAll('.node'), function (g) {
      var id = g.getAttribute('data-id');
      g.classList.toggle('dim', !!on && !on[id]);
      g.classList.toggle('hl', !!on && id === selected);
    });
    Array.prototype.forEach.call(svg.querySelectorAll('.edge'), function (p) {
      var lit = !!on && on[p.getAttribute('data-from')] && on[p.getAttribute('data-to')];
      p.classList.toggle('dim', !!on && !lit);
      p.classList.toggle('hl', !!lit);
    });
  }

  var nss = {};
  data.nodes.forEach(function (n) { if (n.kind === 'binding') { nss[nsOf(n)] = true; } });
  var sel = document.getElementById('namespace');
  Object.keys(nss).sort().forEach(function (ns) {
    var o = document.createElement('option');
    o.value = ns;
    o.textContent = ns;
    sel.appendChild(o);
  });
  document.getElementById('notes').textContent = (data.notes || []).join('; ');
  document.getElementById('principal').addEventListener('input', draw);
  sel.addEventListener('change', draw);
  svg.addEventListener('click', function () { selected = null; highlight(); });
  draw();
}());
