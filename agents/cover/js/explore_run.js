// assay's exploration: every planned call twice, what it did appended to __out (explore.py).
__test("assay exploration", async () => {
  await __startBlocks();
  for (const [id, call] of __plan) {
    __fs.appendFileSync(__out, JSON.stringify({ id, start: true }) + "\n");
    await __blocks();
    const first = await __once(call, id, __mod);
    const blocks = await __blocks();
    const second = await __once(call, id, __mod);
    const same = JSON.stringify(first) === JSON.stringify(second);
    __fs.appendFileSync(__out, JSON.stringify({ id, ...first, blocks, stable: same }) + "\n");
  }
}, 600000);
