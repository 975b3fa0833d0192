// assay's exploration recorder: appended to a generated test file (agents/cover/js/explore.py).
// It expects __plan, __mod, __fs, __inspector, __src and __test to be defined before it, and
// one of explore_run.js (exploration) or mutants_run.js (the calls made on mutants) after it.
const __out = process.env.ASSAY_EXPLORE_OUT;
function __tag(v, depth) {
  if (depth > 4) return ["x"];
  if (v === undefined) return ["u"];
  if (v === null) return ["null"];
  const t = typeof v;
  if (t === "number") return Number.isNaN(v) ? ["nan"] : Number.isFinite(v) ? ["n", v] : ["inf", v > 0 ? 1 : -1];
  if (t === "string") return v.length <= 200 ? ["s", v] : __repeated(v);
  if (t === "boolean") return ["b", v];
  if (Array.isArray(v)) return v.length <= 30 ? ["a", v.map((x) => __tag(x, depth + 1))] : ["x"];
  if (t === "object") {
    const proto = Object.getPrototypeOf(v);
    const keys = Object.keys(v);
    if (keys.length > 30 || keys.some((k) => k.length > 200)) return ["x"];
    const entries = keys.map((k) => [k, __tag(v[k], depth + 1)]);
    if (proto === Object.prototype || proto === null) return ["o", entries];
    if (depth === 0 && proto && proto.constructor) return ["i", proto.constructor.name, entries];
  }
  return ["x"];
}
function __repeated(v) {
  // A long string that is a short one repeated ('ab'.repeat(600)): ["r", unit, count].
  for (let n = 1; n <= 8; n++) {
    if (v.length % n === 0 && v.slice(0, n).repeat(v.length / n) === v) return ["r", v.slice(0, n), v.length / n];
  }
  return ["x"];
}
function __err(e) {
  const name = e && e.constructor ? e.constructor.name : typeof e;
  return { name, message: e && typeof e.message === "string" ? e.message : String(e) };
}
let __session = null;
function __post(method, params) {
  return new Promise((ok, no) => __session.post(method, params || {}, (e, r) => (e ? no(e) : ok(r))));
}
async function __startBlocks() {
  try {
    __session = new __inspector.Session();
    __session.connect();
    await __post("Profiler.enable");
    await __post("Profiler.startPreciseCoverage", { callCount: true, detailed: true });
    await __post("Profiler.takePreciseCoverage");
  } catch (e) {
    __session = null;
  }
}
async function __blocks() {
  // The blocks of the module under test one call ran: per function that ran, the ranges
  // inside it that did not (counters are reset by every take).
  if (!__session) return null;
  try {
    const { result } = await __post("Profiler.takePreciseCoverage");
    const ran = [];
    for (const script of result) {
      if (!script.url.includes(__src)) continue;
      for (const fn of script.functions) {
        if (!fn.ranges.length || fn.ranges[0].count === 0) continue;
        const [own, ...inner] = fn.ranges;
        const idle = inner.filter((r) => r.count === 0).map((r) => `${r.startOffset}:${r.endOffset}`);
        ran.push([`${own.startOffset}:${own.endOffset}`, idle]);
      }
    }
    return ran;
  } catch (e) {
    return null;
  }
}
const __results = {};
function __r(id) {
  // What an earlier call returned: the argument of a later one.
  return __results[id];
}
async function __once(call, id, mod) {
  // One call of the plan on module `mod` (the module under test, or a mutant of it).
  const box = {};
  try {
    let value = call(box, mod);
    if (value && typeof value.then === "function") {
      box.async = true;
      value = await Promise.race([value, new Promise((_, no) => setTimeout(() => no(new Error("__assay_slow")), 2000))]);
    }
    if (!(id in __results)) __results[id] = value;
    return { ok: __tag(value, 0), state: "self" in box ? __tag(box.self, 0) : null, async: !!box.async };
  } catch (e) {
    return { threw: __err(e), state: "self" in box ? __tag(box.self, 0) : null, async: !!box.async };
  }
}
