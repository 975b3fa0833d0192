// assay's calls on mutants (differential.py): the plan's calls on the module under test, then on
// each mutant of __mutants ([index, load]); per mutant, the ids of the calls whose outcome differs:
// of the kept calls (__kept) when one differs, else of the others.
__test("assay mutants", async () => {
  const base = {};
  const began = Date.now();
  for (const [id, call] of __plan) base[id] = JSON.stringify(await __once(call, id, __mod));
  // when the calls on the original ended, and how long they took (a mutant takes about as long)
  __fs.appendFileSync(__out, JSON.stringify({ m: -1, t: Date.now(), took: Date.now() - began }) + "\n");
  for (const [m, load] of __mutants) {
    __fs.appendFileSync(__out, JSON.stringify({ m, start: true }) + "\n");
    let mod;
    try {
      mod = await load();
    } catch (e) {
      __fs.appendFileSync(__out, JSON.stringify({ m, loaded: false }) + "\n");
      continue;
    }
    // The kept calls first: a mutant one of them catches needs no other call.
    const differ = [];
    for (const kept of [true, false]) {
      for (const [id, call] of __plan) {
        if (__kept.has(id) !== kept) continue;
        if (JSON.stringify(await __once(call, id, mod)) !== base[id]) differ.push(id);
      }
      if (differ.length) break;
    }
    // A mutant that changed what the module itself does from now on (a polluted prototype, a
    // shared cache) would make every later mutant look caught: stop here, a new run goes on.
    for (const id of differ) {
      if (JSON.stringify(await __once(__plan.find((p) => p[0] === id)[1], id, __mod)) !== base[id]) {
        __fs.appendFileSync(__out, JSON.stringify({ m, polluted: true }) + "\n");
        return;
      }
    }
    __fs.appendFileSync(__out, JSON.stringify({ m, differ, t: Date.now() }) + "\n");
  }
}, 600000);
