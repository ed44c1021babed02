// trustgauge report: the example explorer. Model output is untrusted: every text goes into
// the page through textContent (never parsed as markup), nothing is turned into a link, nothing is
// loaded. The samples are gzip-compressed JSON columns in base64 (see htmlreport.py).
(function () {
  "use strict";
  // outcome codes, as OUTCOME_CODES in htmlreport.py
  var OUTCOMES = ["pass", "fail", "none", "invalid", "failed", "unjudged"];
  var OUTCOME_TEXT = { pass: "pass", fail: "fail", none: "no verdict", invalid: "invalid", failed: "failed request",
    unjudged: "not judged (needs a judge model)" };
  var state = { task: -1, show: "failing", status: "", label: -1, q: "", page: 0, size: 25 };
  var pick = null;       // samples picked from the security section (indices), or null
  var D = null;          // the decoded columns
  var N = 0;
  var matches = [];      // indices of the samples that pass the filters
  var lowered = null;    // lazily built search haystacks

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function fmtInt(n) { return Number(n).toLocaleString("en-US"); }

  async function decode() {
    var node = $("tg-samples");
    var b64 = node.textContent.trim();
    node.textContent = "";  // free the big string
    var bytes;
    if (typeof Uint8Array.fromBase64 === "function") {
      bytes = Uint8Array.fromBase64(b64);
    } else {
      var bin = atob(b64);
      bytes = new Uint8Array(bin.length);
      for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    }
    if (typeof DecompressionStream !== "function") {
      throw new Error("this browser cannot decompress the embedded samples (no DecompressionStream); read samples.jsonl instead");
    }
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    var text = await new Response(stream).text();
    return JSON.parse(text);
  }

  function isFailing(o) { return o === 1 || o === 3 || o === 4; }

  function statusOk(o) {
    if (!state.status) return true;
    if (state.status === "valid") return o <= 2;
    if (state.status === "invalid") return o === 3 || o === 5;
    return o === 4;
  }

  function haystack(i) {
    if (lowered === null) lowered = new Array(N);
    var h = lowered[i];
    if (h === undefined) {
      var parts = [D.id[i], D.p[i], D.r[i] || "", D.e[i] || "", D.lb[i] >= 0 ? D.labels[D.lb[i]] : ""];
      var j = D.j[i];
      if (j) for (var k = 0; k < j.length; k++) parts.push(j[k][0], j[k][1] || "", j[k][4] || "");
      var tu = D.tu ? D.tu[i] : 0;
      if (tu) for (var m = 0; m < tu.length; m++) parts.push(tu[m][1], tu[m][3] || "");
      h = lowered[i] = parts.join("\n").toLowerCase();
    }
    return h;
  }

  function filter() {
    if (pick !== null) { matches = pick.slice(); return; }
    var out = [];
    var q = state.q.trim().toLowerCase();
    var t = D.t, o = D.o, lb = D.lb;
    for (var i = 0; i < N; i++) {
      if (state.task >= 0 && t[i] !== state.task) continue;
      if (state.show === "failing" && !isFailing(o[i])) continue;
      if (!statusOk(o[i])) continue;
      if (state.label >= 0 && lb[i] !== state.label) continue;
      if (q && haystack(i).indexOf(q) < 0) continue;
      out.push(i);
    }
    matches = out;
  }

  function textBlock(title, text, full, line) {
    var box = el("div");
    box.appendChild(el("h4", null, title));
    if (text === null || text === undefined) {
      box.appendChild(el("pre", "none", "(none)"));
      return box;
    }
    box.appendChild(el("pre", null, text));
    if (full > text.length) {
      box.appendChild(el("div", "trunc", "… cut at " + fmtInt(text.length) + " of " + fmtInt(full) +
        " characters; full text in samples.jsonl, line " + fmtInt(line)));
    }
    return box;
  }

  // a conversation's calls, in order: role, prompt sent, response (all as text)
  function turnsBlock(i, open) {
    var tu = D.tu ? D.tu[i] : 0;
    if (!tu || !tu.length) return null;
    var roles = {};
    for (var k = 0; k < tu.length; k++) roles[tu[k][0]] = (roles[tu[k][0]] || 0) + 1;
    var summary = [];
    for (var r in roles) if (Object.prototype.hasOwnProperty.call(roles, r)) summary.push(r + " × " + roles[r]);
    var box = el("details", "ex-turns");
    if (open) box.open = true;
    box.appendChild(el("summary", null, "Conversation: " + fmtInt(tu.length) + " calls (" + summary.join(", ") + ")"));
    var list = el("ol", "turns");
    for (var t = 0; t < tu.length; t++) {
      var c = tu[t];
      var li = el("li", "turn role-" + String(c[0]).replace(/[^a-z0-9_-]/gi, "_"));
      li.appendChild(el("div", "turn-head", "call " + (t + 1) + " · " + c[0] + (c[5] ? " · finish: " + c[5] : "") + (c[6] ? " · cached" : "")));
      li.appendChild(textBlock("Prompt (" + c[0] + ")", c[1], c[2], i + 1));
      li.appendChild(textBlock("Response (" + c[0] + ")", c[3], c[4], i + 1));
      list.appendChild(li);
    }
    box.appendChild(list);
    return box;
  }

  function metaItem(parent, title, value, cls) {
    var d = el("div");
    d.appendChild(el("h4", null, title));
    d.appendChild(el("div", cls || null, value));
    parent.appendChild(d);
  }

  function card(i) {
    var o = OUTCOMES[D.o[i]];
    var li = el("li", "ex");
    li.dataset.index = String(i);
    var head = el("div", "ex-head");
    head.appendChild(el("span", "badge o-" + o, OUTCOME_TEXT[o]));
    head.appendChild(el("span", "task", D.tasks[D.t[i]]));
    head.appendChild(el("span", "sid", "id " + D.id[i]));
    head.appendChild(el("span", "label", "label: " + (D.lb[i] >= 0 ? D.labels[D.lb[i]] : "—")));
    if (D.c[i]) head.appendChild(el("span", "muted", "cached"));
    head.appendChild(el("span", "where", "samples.jsonl line " + fmtInt(i + 1)));
    li.appendChild(head);
    var body = el("div", "ex-body");
    body.appendChild(textBlock("Prompt", D.p[i], D.pn[i], i + 1));
    if (D.r[i] === null) {
      var err = el("div");
      err.appendChild(el("h4", null, "Response"));
      err.appendChild(el("pre", "none", "(no response) " + (D.e[i] || "")));
      body.appendChild(err);
    } else {
      body.appendChild(textBlock("Response", D.r[i], D.rn[i], i + 1));
    }
    li.appendChild(body);
    var conv = turnsBlock(i, pick !== null || (D.tu && D.tu[i] && D.tu[i].length <= 12));
    if (conv) li.appendChild(conv);
    var meta = el("div", "ex-meta");
    var j = D.j[i];
    if (j) {
      for (var k = 0; k < j.length; k++) {
        var d = el("div");
        d.appendChild(el("h4", null, "judgement · " + j[k][0]));
        var line = (j[k][1] === null ? "—" : j[k][1]) + (j[k][2] === null || j[k][2] === undefined ? "" : " (score " + j[k][2] + ")") +
          (j[k][3] ? " by " + j[k][3] : "");
        d.appendChild(el("div", null, line));
        if (j[k][4]) d.appendChild(el("div", "raw", j[k][4]));
        meta.appendChild(d);
      }
    }
    var sc = D.sc[i];
    if (sc) {
      var parts = [];
      for (var key in sc) if (Object.prototype.hasOwnProperty.call(sc, key)) parts.push(key + " = " + (sc[key] === null ? "—" : sc[key]));
      metaItem(meta, "score", parts.join(", "));
    }
    if (D.tg[i] !== null) metaItem(meta, "target", D.tg[i], "raw");
    if (D.md[i] !== null) metaItem(meta, "metadata", D.md[i], "raw");
    if (D.e[i] !== null && D.r[i] !== null) metaItem(meta, "error", D.e[i], "raw");
    if (meta.childNodes.length) li.appendChild(meta);
    return li;
  }

  function draw() {
    var pages = Math.max(1, Math.ceil(matches.length / state.size));
    if (state.page >= pages) state.page = pages - 1;
    if (state.page < 0) state.page = 0;
    var start = state.page * state.size;
    var end = Math.min(matches.length, start + state.size);
    var list = $("ex-list");
    var frag = document.createDocumentFragment();
    for (var k = start; k < end; k++) frag.appendChild(card(matches[k]));
    list.replaceChildren(frag);
    if (!matches.length) {
      list.appendChild(el("li", "empty", pick !== null ? "The picked sample is not in this page's data." : state.show === "failing" && !state.q
        ? "No failing examples for this selection. Choose “all samples” to see every sample."
        : "No sample matches these filters."));
    }
    var what = pick !== null ? "picked samples" : state.show === "failing" ? "failing examples" : "samples";
    $("ex-count").textContent = matches.length
      ? fmtInt(start + 1) + "–" + fmtInt(end) + " of " + fmtInt(matches.length) + " " + what
      : "0 " + what;
    $("pg-info").textContent = "page " + fmtInt(state.page + 1) + " of " + fmtInt(pages);
    var atStart = state.page === 0, atEnd = state.page >= pages - 1;
    $("pg-prev").disabled = $("pg-prev2").disabled = atStart;
    $("pg-next").disabled = $("pg-next2").disabled = atEnd;
    document.body.dataset.page = String(state.page + 1);
    document.body.dataset.matches = String(matches.length);
  }

  function fillTasks() {
    var counts = new Array(D.tasks.length).fill(0), failing = new Array(D.tasks.length).fill(0);
    for (var i = 0; i < N; i++) { counts[D.t[i]]++; if (isFailing(D.o[i])) failing[D.t[i]]++; }
    var sel = $("f-task");
    for (var k = 0; k < D.tasks.length; k++) {
      var opt = el("option", null, D.tasks[k] + " (" + fmtInt(failing[k]) + " failing / " + fmtInt(counts[k]) + ")");
      opt.value = String(k);
      sel.appendChild(opt);
    }
  }

  function fillLabels() {
    var sel = $("f-label");
    var keep = state.label;
    var counts = new Map();
    for (var i = 0; i < N; i++) {
      if (state.task >= 0 && D.t[i] !== state.task) continue;
      var l = D.lb[i];
      if (l >= 0) counts.set(l, (counts.get(l) || 0) + 1);
    }
    var first = sel.options[0];
    sel.replaceChildren(first);
    var ids = Array.from(counts.keys()).sort(function (a, b) { return D.labels[a] < D.labels[b] ? -1 : 1; });
    ids.forEach(function (l) {
      var opt = el("option", null, D.labels[l] + " (" + fmtInt(counts.get(l)) + ")");
      opt.value = String(l);
      sel.appendChild(opt);
    });
    state.label = counts.has(keep) ? keep : -1;
    sel.value = state.label >= 0 ? String(state.label) : "";
  }

  function showPick(indices, text) {
    pick = indices;
    $("pick").hidden = false;
    $("pick-text").textContent = text;
    update(true);
    $("examples").scrollIntoView();
  }

  function clearPick() {
    if (pick === null) return;
    pick = null;
    $("pick").hidden = true;
  }

  function taskIndex(name) { return D ? D.tasks.indexOf(name) : -1; }

  function update(resetPage) {
    if (!D) return;
    if (resetPage) state.page = 0;
    filter();
    draw();
  }

  function bind() {
    ["f-task", "f-show", "f-status", "f-label", "f-q"].forEach(function (id) {
      $(id).addEventListener(id === "f-q" ? "input" : "change", clearPick);
    });
    $("pick-clear").addEventListener("click", function () { clearPick(); update(true); });
    // the security section: one successful attack's transcript, or all of a task's
    document.querySelectorAll("button.show-sample").forEach(function (b) {
      b.addEventListener("click", function () {
        var k = taskIndex(b.dataset.task);
        if (k < 0) return;
        var found = [];
        for (var i = 0; i < N; i++) if (D.t[i] === k && D.id[i] === b.dataset.sample) found.push(i);
        showPick(found, "Transcript of " + b.dataset.task + " / " + b.dataset.sample);
      });
    });
    document.querySelectorAll("button.show-success").forEach(function (b) {
      b.addEventListener("click", function () {
        var k = taskIndex(b.dataset.task);
        if (k < 0) return;
        var found = [];
        for (var i = 0; i < N; i++) if (D.t[i] === k && D.sc[i] && D.sc[i].success === 1) found.push(i);
        showPick(found, "Successful attacks of " + b.dataset.task + ": " + fmtInt(found.length));
      });
    });
    $("f-task").addEventListener("change", function (e) {
      state.task = e.target.value === "" ? -1 : Number(e.target.value);
      fillLabels();
      update(true);
    });
    $("f-show").addEventListener("change", function (e) { state.show = e.target.value; update(true); });
    $("f-status").addEventListener("change", function (e) { state.status = e.target.value; update(true); });
    $("f-label").addEventListener("change", function (e) {
      state.label = e.target.value === "" ? -1 : Number(e.target.value);
      update(true);
    });
    var timer = null;
    $("f-q").addEventListener("input", function (e) {
      clearTimeout(timer);
      var v = e.target.value;
      timer = setTimeout(function () { state.q = v; update(true); }, 180);
    });
    $("pg-size").addEventListener("change", function (e) { state.size = Number(e.target.value); update(true); });
    function go(delta) { return function () { state.page += delta; draw(); }; }
    $("pg-prev").addEventListener("click", go(-1));
    $("pg-prev2").addEventListener("click", go(-1));
    $("pg-next").addEventListener("click", go(1));
    $("pg-next2").addEventListener("click", go(1));
    document.querySelectorAll("button.goto").forEach(function (b) {
      b.addEventListener("click", function () {
        var k = D ? D.tasks.indexOf(b.dataset.task) : -1;
        if (k < 0) return;
        clearPick();
        state.task = k;
        state.show = "failing";
        $("f-task").value = String(k);
        $("f-show").value = "failing";
        fillLabels();
        update(true);
        $("examples").scrollIntoView();
      });
    });
  }

  async function main() {
    bind();
    try {
      D = await decode();
      N = D.t.length;
    } catch (err) {
      $("ex-count").textContent = "The samples could not be loaded: " + (err && err.message ? err.message : String(err));
      window.__ready = "error";
      document.body.dataset.ready = "error";
      return;
    }
    fillTasks();
    fillLabels();
    update(true);
    window.__readyMs = performance.now();
    window.__ready = true;
    document.body.dataset.ready = "1";
  }

  main();
})();
