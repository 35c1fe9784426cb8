// seqlab playground: plain JavaScript, no libraries, nothing from the network.
"use strict";

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

// --- tabs -------------------------------------------------------------------------------------------------
function showPanel() {
  const name = (location.hash || "#names").slice(1);
  const panel = $(`#panel-${name}`) ? name : "names";
  $$(".panel").forEach(p => p.classList.toggle("active", p.id === `panel-${panel}`));
  $$("#tabs a").forEach(a => a.classList.toggle("active", a.dataset.panel === panel));
  if (panel === "models") loadModels();
}
window.addEventListener("hashchange", showPanel);

// --- forms and errors -------------------------------------------------------------------------------------
function values(form) {
  // Numbers as numbers, empty optional numbers as null, text as typed.
  const out = {};
  for (const el of form.elements) {
    if (!el.name || el.type === "file" || el.disabled) continue;   // a greyed-out field does not apply
    if (el.type === "number") {
      const raw = el.value.trim();
      out[el.name] = raw === "" ? null : Number(raw);
      if (raw !== "" && Number.isNaN(out[el.name])) out[el.name] = raw;
    } else {
      out[el.name] = el.value;
    }
  }
  return out;
}

function clearErrors(form) {
  $$("[data-error-for]", form).forEach(e => { e.textContent = ""; });
  $$(".invalid", form).forEach(e => e.classList.remove("invalid"));
  $(".panel-error", form).textContent = "";
}

function showErrors(form, data, status) {
  const errors = (data && data.errors) || [{ field: null, message: (data && data.detail) || `error ${status}` }];
  for (const { field, message } of errors) {
    const slot = field && $(`[data-error-for="${field}"]`, form);
    if (slot) {
      slot.textContent = message;
      const input = form.elements[field];
      if (input && input.classList) input.classList.add("invalid");
    } else {
      const general = $(".panel-error", form);
      general.textContent = (general.textContent ? general.textContent + " " : "") + message;
    }
  }
}

async function request(path, options = {}) {
  let res;
  try {
    res = await fetch(path, options);
  } catch (err) {
    if (err.name === "AbortError") throw err;
    return { ok: false, status: 0, data: { detail: "the server cannot be reached; is `seqlab serve` running?" } };
  }
  let data = null;
  const type = res.headers.get("content-type") || "";
  if (type.includes("application/json")) data = await res.json();
  return { ok: res.ok, status: res.status, data, res };
}

const postJSON = (path, body, extra = {}) =>
  request(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body), ...extra });

function busy(form, on) {
  $$("button[type=submit]", form).forEach(b => { b.disabled = on; });
}

// --- models -----------------------------------------------------------------------------------------------
let models = [];

async function loadModels() {
  const r = await request("/api/models");
  if (!r.ok) return;
  models = r.data.models;
  for (const select of $$(".model-select")) {
    const keep = select.value || select.dataset.prefer;
    select.innerHTML = "";
    // Names takes a lines model only (data-mode): a stream model has no names to give, only passages
    for (const m of models.filter(m => !select.dataset.mode || m.mode === select.dataset.mode)) {
      const opt = document.createElement("option");
      opt.value = m.name;
      opt.textContent = `${m.name} (${m.mode})`;
      select.appendChild(opt);
    }
    if (models.some(m => m.name === keep)) select.value = keep;
  }
  const body = $("#models-table tbody");
  body.innerHTML = "";
  for (const m of models) {
    const tr = document.createElement("tr");
    const score = m.heldout_nats_per_char == null ? "—" : m.heldout_nats_per_char.toFixed(3);
    const net = `${m.cell} ${m.layers}×${m.hidden}` + (m.embed ? `, embed ${m.embed}` : ", one-hot") +
      (m.dropout ? `, drop ${m.dropout}` : "");
    const cells = [m.name, m.mode, net,
      m.parameters.toLocaleString("en"), m.vocab_size, weightsStep(m), score, m.source];
    for (const c of cells) {
      const td = document.createElement("td");
      if (Array.isArray(c)) {   // the weights' step, the last trained step under it
        td.textContent = c[0];
        const last = document.createElement("small");
        last.className = "under";
        last.textContent = c[1];
        td.appendChild(last);
      } else {
        td.textContent = c;
      }
      tr.appendChild(td);
    }
    const use = document.createElement("td");
    const panels = m.mode === "lines" ? [["names", "#names-form"], ["poem", "#poem-form"]] : [["poem", "#poem-form"]];
    for (const [panel, select] of panels) {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = panel;
      b.addEventListener("click", () => { $(`${select} .model-select`).value = m.name; location.hash = panel; });
      use.appendChild(b);
    }
    tr.appendChild(use);
    body.appendChild(tr);
  }
  const skipped = $("#models-skipped");
  skipped.innerHTML = "";
  for (const f of r.data.skipped || []) {
    const li = document.createElement("li");
    li.textContent = `${f.file}: ${f.why}`;
    skipped.appendChild(li);
  }
  skipped.hidden = !skipped.children.length;
}

function weightsStep(m) {
  // The step the kept weights come from (a run keeps its best held-out evaluation's), and the last trained
  // step only where it differs, said as such.
  if (m.weights_step == null) return "—";
  const at = m.weights_step.toLocaleString("en");
  return m.step == null || m.step === m.weights_step ? at : [at, `trained to ${m.step.toLocaleString("en")}`];
}

// --- names ------------------------------------------------------------------------------------------------
$("#names-form").addEventListener("submit", async ev => {
  ev.preventDefault();
  const form = ev.target;
  clearErrors(form);
  busy(form, true);
  const r = await postJSON("/api/names", values(form));
  busy(form, false);
  const out = $("#names-out");
  if (!r.ok) {   // the names of an earlier request would read as this one's
    out.innerHTML = ""; $("#names-summary").textContent = ""; showErrors(form, r.data, r.status); return;
  }
  out.innerHTML = "";
  for (const { name, new: isNew } of r.data.names) {
    const li = document.createElement("li");
    li.textContent = name;
    if (isNew) {
      const mark = document.createElement("span");
      mark.className = "new-mark";
      mark.textContent = "new";
      mark.title = "not in the training data";
      li.appendChild(mark);
    }
    out.appendChild(li);
  }
  const d = r.data;
  // the server's summary, worded as `seqlab names` says it (a name drawn twice is one name); null: no training
  // lines to compare with (an imported model)
  const lines = `${d.count} lines` + (d.distinct === d.count ? "" : ` (${d.distinct} distinct)`);
  $("#names-summary").textContent = (d.summary ?? lines) + ` · model ${d.model}, seed ${d.seed}`;
});

// --- server-sent events over fetch (POST bodies, unlike EventSource) --------------------------------------
async function readEvents(res, onEvent) {
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let event = "message", data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event: ")) event = line.slice(7);
        else if (line.startsWith("data: ")) data += line.slice(6);
      }
      if (data) onEvent(event, JSON.parse(data));
    }
  }
}

// --- poem -------------------------------------------------------------------------------------------------
let poemAbort = null;

$("#poem-form").addEventListener("submit", async ev => {
  ev.preventDefault();
  const form = ev.target;
  clearErrors(form);
  if (poemAbort) poemAbort.abort();
  poemAbort = new AbortController();
  const body = values(form);
  const out = $("#poem-out");
  const completion = $(".completion", out);
  const verse = $("#poem-lines");
  const inForm = body.form !== "free";
  busy(form, true);
  $("#poem-stop").disabled = false;
  $("#poem-summary").textContent = "writing…";
  try {
    const r = await request("/api/poem", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body), signal: poemAbort.signal });
    if (!r.ok) { showErrors(form, r.data, r.status); $("#poem-summary").textContent = ""; return; }
    $(".prompt", out).textContent = inForm ? "" : body.prompt;
    completion.textContent = "";
    verse.innerHTML = "";
    out.hidden = inForm;
    verse.hidden = !inForm;
    let how = "";
    await readEvents(r.res, (event, data) => {
      if (event === "start") how = data.beam ? `beam ${data.beam}` : `seed ${data.seed}`;
      else if (event === "line") verse.appendChild(formLine(data));
      else if (event === "error") $(".panel-error", form).textContent = data.detail;
      else if (event === "done" && inForm) {
        $("#poem-summary").textContent = `${data.lines.length} lines · rhymes held ${data.rhymes_held} of ` +
          `${data.rhyme_pairs.length} · ${data.seconds.toFixed(1)} s · ${how}`;
      } else if (event === "done") $("#poem-summary").textContent = `${data.chars} characters · ${how}`;
      else if (data.text) completion.textContent += data.text;
    });
  } catch (err) {
    if (err.name !== "AbortError") $(".panel-error", form).textContent = `the poem stopped: ${err.message}`;
    else $("#poem-summary").textContent = "stopped";
  } finally {
    busy(form, false);
    $("#poem-stop").disabled = true;
  }
});

$("#poem-stop").addEventListener("click", () => { if (poemAbort) poemAbort.abort(); });

// A line of a poem in a form: its rhyme letter and syllables beside it (a rhyme not held is marked).
function formLine(line) {
  const li = document.createElement("li");
  const letter = document.createElement("span");
  letter.className = "rhyme" + (line.held === false ? " missed" : "");
  letter.textContent = line.letter;
  letter.title = line.partner ? `rhymes with “${line.partner}”` + (line.held === false ? " (not held)" : "") : "";
  const syl = document.createElement("span");
  syl.className = "syllables";
  syl.textContent = line.syllables;
  const text = document.createElement("span");
  text.className = "verse";
  text.textContent = line.text;
  li.append(letter, syl, text);
  return li;
}

// A beam chooses nothing at random: while it holds a number, the sampling fields do not apply (the API
// refuses them beside a beam).
// A form searches its lines one by one: a length, a beam and top-k do not apply to it.
const beamInput = $("#poem-form [name=beam]");
const formSelect = $("#poem-form [name=form]");
function sampleFields() {
  const inForm = formSelect.value !== "free";
  for (const name of ["length", "beam", "top_k"]) $(`#poem-form [name=${name}]`).disabled = inForm;
  const beam = !inForm && beamInput.value.trim() !== "";
  for (const name of ["temperature", "top_k", "top_p", "seed"]) {
    $(`#poem-form [name=${name}]`).disabled = beam || (inForm && name === "top_k");
  }
}
beamInput.addEventListener("input", sampleFields);
formSelect.addEventListener("change", sampleFields);
sampleFields();

// --- jazz -------------------------------------------------------------------------------------------------
let progressions = [];
let maxMeasures = 64;
const MAX_CHORUSES = 16;

async function loadChanges() {
  const r = await request("/api/changes");
  if (!r.ok) return;
  progressions = r.data.changes;
  maxMeasures = r.data.max_measures;
  const select = $("#jazz-changes");
  select.innerHTML = "";
  for (const c of progressions) {
    const opt = document.createElement("option");
    opt.value = c.name;
    opt.textContent = `${c.name} (${c.measures} bars)`;
    opt.title = c.title;
    select.appendChild(opt);
  }
  const list = $("#jazz-instruments");
  for (const name of r.data.instruments) {
    const opt = document.createElement("option");
    opt.value = name;
    list.appendChild(opt);
  }
  fillChords();
}

function fillChords() {
  // The chosen progression's chords go into the box, to hear as they are or to edit; the model's own are
  // shown greyed (named from its voicings, played as voiced: not sent, not editable).
  const c = progressions.find(p => p.name === $("#jazz-changes").value);
  if (!c) return;
  const box = $("#jazz-chords");
  box.value = c.chords;
  box.placeholder = c.chords;     // an emptied box plays the chosen changes: it shows them, not an example
  box.disabled = !c.editable;
  box.title = c.editable ? "" : "the model's own chords, as its MIDI file voices them; choose other changes to type yours";
  choruses();
}
$("#jazz-changes").addEventListener("change", fillChords);

function measuresTyped() {
  // measures of the chords in the box (| separates them, as in `seqlab jazz --chords`)
  const c = progressions.find(p => p.name === $("#jazz-changes").value);
  const box = $("#jazz-chords");
  const typed = box.value.trim();
  if (!c || !c.editable || !typed || typed === c.chords) return c ? c.measures : 1;
  return typed.split("|").filter(m => m.trim()).length || 1;
}

function choruses() {
  // the real bound: at most maxMeasures measures of solo, so fewer choruses of longer changes
  const most = Math.max(1, Math.min(MAX_CHORUSES, Math.floor(maxMeasures / measuresTyped())));
  const input = $("#jazz-form [name=choruses]");
  input.max = most;
  $("#jazz-choruses-bound").textContent = `1–${most}`;
  $("#jazz-choruses-bound").title = `at most ${maxMeasures} measures of solo`;
}
$("#jazz-chords").addEventListener("input", choruses);

function clearSolo() {
  $("#jazz-result").hidden = true;
  $("#jazz-audio").removeAttribute("src");
  $("#jazz-roll").removeAttribute("src");
  $("#jazz-summary").textContent = "";
}

$("#jazz-form").addEventListener("submit", async ev => {
  ev.preventDefault();
  const form = ev.target;
  clearErrors(form);
  busy(form, true);
  const r = await postJSON("/api/jazz", values(form));
  busy(form, false);
  if (!r.ok) { clearSolo(); showErrors(form, r.data, r.status); return; }   // no earlier solo under this choice
  const d = r.data;
  $("#jazz-result").hidden = false;
  $("#jazz-audio").src = d.wav;
  $("#jazz-roll").src = d.png;
  $("#jazz-midi").href = d.midi;
  $("#jazz-wav").href = d.wav;
  const tones = d.chord_tone_fraction == null ? "" :
    `; ${Math.round(100 * d.chord_tone_fraction)}% of the time on chord tones, in ${d.key}`;
  $("#jazz-summary").textContent = `${d.instrument} over ${d.changes}: ${d.measures} measures, ${d.notes} notes ` +
    `at ${d.bpm} bpm (${d.seconds} s)${tones}`;
});

// --- train ------------------------------------------------------------------------------------------------
const curve = { train: [], heldout: [], steps: 1 };
let trainEvents = null;

function drawCurve() {
  const canvas = $("#train-curve");
  const g = canvas.getContext("2d");
  const W = canvas.width, H = canvas.height, L = 52, R = 14, T = 14, B = 32;
  g.clearRect(0, 0, W, H);
  g.font = "12px system-ui, sans-serif";
  g.fillStyle = "#5b6475";
  const all = curve.train.concat(curve.heldout).map(p => p[1]);
  if (!all.length) { g.fillText("the loss curve appears here while a model trains", L, H / 2); return; }
  let lo = Math.min(...all), hi = Math.max(...all);
  if (hi - lo < 1e-6) { lo -= 0.5; hi += 0.5; }
  const pad = (hi - lo) * 0.08; lo -= pad; hi += pad;
  const x = s => L + (W - L - R) * s / curve.steps;
  const y = v => T + (H - T - B) * (hi - v) / (hi - lo);
  g.strokeStyle = "#d9dde5";
  g.lineWidth = 1;
  for (let k = 0; k <= 4; k++) {
    const v = lo + (hi - lo) * k / 4;
    g.beginPath(); g.moveTo(L, y(v)); g.lineTo(W - R, y(v)); g.stroke();
    g.fillText(v.toFixed(2), 6, y(v) + 4);
  }
  g.fillText("0", L, H - 12);
  g.fillText(`step ${curve.steps}`, W - R - 70, H - 12);
  g.fillText("nats per character", L + 6, T + 10);
  const line = (points, color) => {
    if (!points.length) return;
    g.strokeStyle = color; g.fillStyle = color; g.lineWidth = 2;
    g.beginPath();
    points.forEach(([s, v], i) => (i ? g.lineTo(x(s), y(v)) : g.moveTo(x(s), y(v))));
    g.stroke();
    const [s, v] = points[points.length - 1];
    g.beginPath(); g.arc(x(s), y(v), 3, 0, 2 * Math.PI); g.fill();
  };
  line(curve.train, "#b8510d");
  line(curve.heldout, "#2b5fab");
  g.fillStyle = "#b8510d"; g.fillText("training", W - R - 150, T + 10);
  g.fillStyle = "#2b5fab"; g.fillText("held-out", W - R - 80, T + 10);
}

function trainStatus(text) { $("#train-status").textContent = text; }

function followTraining(job) {
  if (trainEvents) trainEvents.close();
  curve.train = []; curve.heldout = []; curve.steps = job.steps;
  $("#train-samples").innerHTML = "";
  drawCurve();
  const running = on => { $("#train-start").disabled = on; $("#train-cancel").disabled = !on; };
  running(job.status === "running");
  trainEvents = new EventSource("/api/train/events");
  trainEvents.onmessage = msg => {
    const e = JSON.parse(msg.data);
    if (e.type === "eval") {
      curve.train.push([e.step, e.train]);
      if (e.heldout != null) curve.heldout.push([e.step, e.heldout]);
      drawCurve();
      trainStatus(`${job.name}: step ${e.step} of ${job.steps}, training ${e.train.toFixed(3)}` +
        (e.heldout == null ? "" : `, held-out ${e.heldout.toFixed(3)}`) + " nats/char");
    } else if (e.type === "sample") {
      const li = document.createElement("li");
      li.innerHTML = `<b>step ${e.step}</b> `;
      li.appendChild(document.createTextNode(e.samples.join(" | ")));
      $("#train-samples").prepend(li);
    } else if (e.type === "done") {
      trainStatus(`finished: model “${e.model}” is in Models; choose it in Names or Poem`);
      running(false); trainEvents.close(); loadModels();
    } else if (e.type === "cancelled") {
      trainStatus(`cancelled at step ${e.step}; nothing was saved`);
      running(false); trainEvents.close();
    } else if (e.type === "failed") {
      trainStatus(`failed: ${e.message}`);
      running(false); trainEvents.close();
    } else if (e.type === "none") {
      trainEvents.close();
    }
  };
}

$("#train-form").addEventListener("submit", async ev => {
  ev.preventDefault();
  const form = ev.target;
  clearErrors(form);
  if (!form.elements.file.files.length) {
    showErrors(form, { errors: [{ field: "file", message: "choose a UTF-8 text file (at most 5 MB)" }] });
    return;
  }
  busy(form, true);
  const r = await request("/api/train", { method: "POST", body: new FormData(form) });
  if (!r.ok) { busy(form, false); showErrors(form, r.data, r.status); return; }
  trainStatus(`training ${r.data.job.name}…`);
  followTraining(r.data.job);
});

$("#train-cancel").addEventListener("click", async () => {
  const r = await postJSON("/api/train/cancel", {});
  if (!r.ok) showErrors($("#train-form"), r.data, r.status);
});

// --- start ------------------------------------------------------------------------------------------------
async function start() {
  showPanel();
  drawCurve();
  await Promise.all([loadModels(), loadChanges()]);
  const t = await request("/api/train");
  if (t.ok && t.data.job && t.data.job.status === "running") followTraining(t.data.job);
  const s = await request("/api/status");
  if (s.ok) $("#footer").textContent = `seqlab ${s.data.version} · everything runs on this machine`;
  document.body.dataset.ready = "1";
}
start();
