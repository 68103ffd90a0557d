// micrograd_x explorer: the one front end of the Jupyter widget (anywidget) and the saved page.
//
// Python computes everything (the drawing, every text, the edge widths, the backward steps and
// which nodes lie on which paths); this module only shows a state and drives the controls. It
// talks to a "model" with anywidget's interface: get(name), set(name, value), save_changes(),
// on("change:name", callback), send(message). The saved page passes a small local model built
// from the JSON it embeds (mountPage below); the widget passes anywidget's.
//
// Test hooks: each node group has data-node (its trace id), its gradient text data-grad; the
// controls are buttons with data-action="prev" | "next" | "play" | "reset".

const PLAY_MS = 900;

function make(tag, attrs, text) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  if (text !== undefined) el.textContent = text;
  return el;
}

// Bit j of a mask: bit j % 4 of hex digit j / 4 (see explore_state.highlights).
function bit(mask, j) {
  return ((parseInt(mask[j >> 2], 16) >> (j & 3)) & 1) === 1;
}

function mount(el, model) {
  el.classList.add("mgx");
  el.setAttribute("tabindex", "0");
  let figure = el.querySelector(".mgx-figure");
  if (!figure) figure = make("div", { class: "mgx-figure" });

  const bar = make("div", { class: "mgx-bar" });
  const buttons = {};
  for (const [action, text, title] of [
    ["prev", "◀", "previous step (←)"],
    ["next", "▶", "next step (→)"],
    ["play", "▷ play", "play the backward pass"],
    ["reset", "⟲ reset", "back to before the backward pass"],
  ]) {
    const b = make("button", { type: "button", "data-action": action, title }, text);
    buttons[action] = b;
    bar.appendChild(b);
  }
  const counter = make("span", { class: "mgx-count", "data-role": "counter" });
  bar.appendChild(counter);
  const summary = make("div", { class: "mgx-summary", "data-role": "summary" });
  const inputs = make("div", { class: "mgx-inputs", "data-role": "inputs" });
  const error = make("div", { class: "mgx-error", "data-role": "error", role: "alert" });
  const caption = make("div", { class: "mgx-caption", "data-role": "caption", "aria-live": "polite" });
  const side = make("div", { class: "mgx-side" });
  const pick = make("label", { class: "mgx-pick" }, "highlight: ");
  const target = make("select", { "data-role": "target" });
  pick.appendChild(target);
  const explain = make("div", { class: "mgx-explain", "data-role": "explain" });
  side.append(pick, explain);
  el.prepend(bar, summary, inputs, error, caption);
  el.append(figure, side);

  let scene = null;
  let index = new Map(); // node id -> position in scene.nodes
  let nodes = new Map(); // node id -> {g, value, grad}
  let edges = new Map(); // edge id -> {g, label, strokes, source, destination}
  let timer = null;

  const steps = () => (model.get("state").steps || []);
  function setStep(k) {
    const n = steps().length;
    model.set("step", Math.max(0, Math.min(n, k)));
    model.save_changes();
  }

  function bindScene() {
    scene = model.get("scene");
    if (typeof scene.svg === "string") figure.innerHTML = scene.svg;
    index = new Map(scene.nodes.map((n, k) => [n.id, k]));
    nodes = new Map();
    for (const g of figure.querySelectorAll("g[data-node]")) {
      const id = g.getAttribute("data-node");
      nodes.set(id, { g, value: g.querySelector("[data-value]"), grad: g.querySelector("[data-grad]") });
      g.addEventListener("click", (ev) => {
        ev.stopPropagation();
        model.set("selected", model.get("selected") === id ? "" : id);
        model.save_changes();
      });
    }
    edges = new Map();
    for (const e of scene.edges) {
      const g = figure.querySelector(`g[data-edge="${e.id}"]`);
      if (!g) continue;
      edges.set(e.id, {
        g,
        label: g.querySelector("[data-partial]"),
        strokes: g.querySelectorAll("path, polygon"),
        source: e.source,
        destination: e.destination,
      });
    }
    target.replaceChildren(make("option", { value: "" }, "paths from the clicked box to the output"));
    for (const t of scene.targets) {
      target.appendChild(make("option", { value: t.id }, `paths between ${t.name} and the clicked box`));
    }
    target.value = model.get("target") || "";
  }

  function applyState() {
    const state = model.get("state");
    summary.textContent = state.caption;
    scene.nodes.forEach((n, k) => {
      const r = nodes.get(n.id);
      if (r && r.value) r.value.textContent = state.nodes[k].value;
    });
    scene.edges.forEach((e, k) => {
      const r = edges.get(e.id);
      if (r && r.label) r.label.textContent = state.edges[k].partial;
    });
    applyStep();
  }

  function applyStep() {
    const state = model.get("state");
    const all = state.steps;
    const step = Math.max(0, Math.min(all.length, model.get("step") || 0));
    const reached = new Set();
    const flowed = new Set();
    for (const r of nodes.values()) r.grad.textContent = scene.unreached;
    for (let s = 0; s < step; s++) {
      for (const [id, text] of all[s].updates) {
        nodes.get(id).grad.textContent = text;
        reached.add(id);
      }
      for (const e of all[s].edges) flowed.add(e);
    }
    const current = step > 0 ? all[step - 1] : null;
    scene.nodes.forEach((n, k) => {
      const g = nodes.get(n.id).g;
      g.classList.toggle("mgx-unreached", !reached.has(n.id));
      g.classList.toggle("mgx-partial", reached.has(n.id) && state.nodes[k].done > step);
      g.classList.toggle("mgx-current", current !== null && current.node === n.id);
    });
    const now = new Set(current ? current.edges : []);
    scene.edges.forEach((e, k) => {
      const r = edges.get(e.id);
      if (!r) return;
      const w = state.edges[k].width;
      const on = flowed.has(e.id);
      for (const s of r.strokes) {
        s.setAttribute("stroke-width", on && w > 0 ? String(w) : "1");
        if (on && w === 0) s.setAttribute("stroke-dasharray", "4,3");
        else s.removeAttribute("stroke-dasharray");
      }
      r.g.classList.toggle("mgx-waiting", !on);
      r.g.classList.toggle("mgx-flowing", now.has(e.id));
    });
    counter.textContent = `step ${step} of ${all.length}`;
    caption.replaceChildren();
    if (current === null) {
      caption.appendChild(make("div", { class: "mgx-title" },
        `Press ▶ to run the backward pass one node at a time: ${all.length} steps, in the engine's own order.`));
    } else {
      caption.appendChild(make("div", { class: "mgx-title" }, current.title));
      for (const line of current.lines) caption.appendChild(make("div", { class: "mgx-eq", "data-role": "equation" }, line));
    }
    buttons.prev.disabled = step === 0;
    buttons.next.disabled = step === all.length;
    buttons.reset.disabled = step === 0;
  }

  function applyHighlight() {
    const sel = model.get("selected") || "";
    const tgt = model.get("target") || "";
    target.value = tgt;
    const k = index.get(sel);
    el.classList.toggle("mgx-focus", k !== undefined);
    if (k === undefined) {
      for (const r of nodes.values()) r.g.classList.remove("mgx-on", "mgx-off", "mgx-selected");
      for (const r of edges.values()) r.g.classList.remove("mgx-on", "mgx-off");
      explain.replaceChildren(make("p", { class: "mgx-hint" },
        "Click a box to highlight its paths and see its chain rule; click it again to clear."));
      return;
    }
    const mine = scene.nodes[k];
    const t = index.get(tgt);
    const on = t === undefined
      ? (j) => bit(mine.down, j)
      : (j) => bit(mine.up, j) && bit(scene.nodes[t].down, j);
    const lit = new Set();
    scene.nodes.forEach((n, j) => {
      const r = nodes.get(n.id);
      const yes = on(j);
      if (yes) lit.add(n.id);
      r.g.classList.toggle("mgx-on", yes);
      r.g.classList.toggle("mgx-off", !yes);
      r.g.classList.toggle("mgx-selected", n.id === sel);
    });
    for (const r of edges.values()) {
      const yes = lit.has(r.source) && lit.has(r.destination);
      r.g.classList.toggle("mgx-on", yes);
      r.g.classList.toggle("mgx-off", !yes);
    }
    const key = t === undefined ? sel : `${sel}<${tgt}`;
    const html = (model.get("explain") || {})[key];
    if (typeof html === "string") {
      explain.innerHTML = html; // built and escaped by Python
    } else if (t !== undefined && !lit.has(tgt)) {
      explain.replaceChildren(make("p", { class: "mgx-hint" }, `No path: ${mine.name} does not depend on ${scene.nodes[t].name}.`));
    } else {
      explain.replaceChildren(make("p", { class: "mgx-hint" }, "(the table for this pair is shown in the notebook)"));
    }
  }

  let shownInputs = "";
  const pending = new Map();
  function send(name, value) {
    if (!Number.isFinite(value)) return;
    if (pending.has(name)) { pending.get(name).value = value; return; }
    const p = { value };
    pending.set(name, p);
    setTimeout(() => { pending.delete(name); model.send({ type: "set", name, value: p.value }); }, 40);
  }
  function renderInputs() {
    const list = model.get("inputs") || [];
    const names = list.map((i) => i.name).join("\u0000");
    if (names !== shownInputs) {
      shownInputs = names;
      inputs.replaceChildren();
      for (const i of list) {
        const row = make("label", { class: "mgx-input" });
        const range = make("input", { type: "range", "data-input": i.name, min: i.min, max: i.max, step: i.step });
        const box = make("input", { type: "number", "data-input": i.name, step: "any" });
        range.addEventListener("input", () => { box.value = range.value; send(i.name, parseFloat(range.value)); });
        box.addEventListener("change", () => send(i.name, parseFloat(box.value)));
        row.append(make("span", { class: "mgx-input-name" }, i.name), range, box);
        inputs.appendChild(row);
      }
    }
    for (const i of list) {
      for (const c of inputs.querySelectorAll("input")) {
        if (c.getAttribute("data-input") !== i.name || c === document.activeElement) continue;
        if (c.type === "range") { c.min = i.min; c.max = i.max; }
        c.value = String(i.value);
      }
    }
    inputs.hidden = list.length === 0;
  }

  function stop() {
    if (timer !== null) clearInterval(timer);
    timer = null;
    buttons.play.textContent = "▷ play";
  }
  function play() {
    if (timer !== null) { stop(); return; }
    if ((model.get("step") || 0) >= steps().length) setStep(0);
    buttons.play.textContent = "‖ pause";
    timer = setInterval(() => {
      const s = model.get("step") || 0;
      if (s >= steps().length) { stop(); return; }
      setStep(s + 1);
    }, PLAY_MS);
  }

  buttons.next.addEventListener("click", () => { stop(); setStep((model.get("step") || 0) + 1); });
  buttons.prev.addEventListener("click", () => { stop(); setStep((model.get("step") || 0) - 1); });
  buttons.reset.addEventListener("click", () => { stop(); setStep(0); });
  buttons.play.addEventListener("click", play);
  el.addEventListener("keydown", (ev) => {
    if (ev.target instanceof HTMLInputElement || ev.target instanceof HTMLSelectElement) return;
    if (ev.key === "ArrowRight") { stop(); setStep((model.get("step") || 0) + 1); ev.preventDefault(); }
    if (ev.key === "ArrowLeft") { stop(); setStep((model.get("step") || 0) - 1); ev.preventDefault(); }
  });
  target.addEventListener("change", () => { model.set("target", target.value); model.save_changes(); });

  model.on("change:scene", () => { bindScene(); applyState(); applyHighlight(); });
  model.on("change:state", applyState);
  model.on("change:step", applyStep);
  model.on("change:selected", applyHighlight);
  model.on("change:target", applyHighlight);
  model.on("change:explain", applyHighlight);
  model.on("change:inputs", renderInputs);
  model.on("change:error", () => { error.textContent = model.get("error") || ""; });

  bindScene();
  applyState();
  applyHighlight();
  renderInputs();
  error.textContent = model.get("error") || "";
  return stop;
}

// The saved page: a local model over the JSON the page embeds (no kernel, no inputs to move).
function mountPage(el, dataId) {
  const data = JSON.parse(document.getElementById(dataId).textContent);
  const values = {
    scene: data.scene, state: data.state, explain: data.explain,
    step: 0, selected: "", target: "", inputs: [], error: "",
  };
  const handlers = new Map();
  const model = {
    get: (name) => values[name],
    set: (name, value) => {
      if (values[name] === value) return;
      values[name] = value;
      for (const f of handlers.get(`change:${name}`) || []) f();
    },
    save_changes: () => {},
    on: (event, f) => { handlers.set(event, [...(handlers.get(event) || []), f]); },
    send: () => {},
  };
  mount(el, model);
  el.setAttribute("data-ready", "true");
}

export default {
  render({ model, el }) {
    return mount(el, model);
  },
};
