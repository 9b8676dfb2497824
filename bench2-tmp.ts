import { createImplEngine, compile, runCompiled, createImplMachine } from './impl/index.ts';
import { PROFILE_DATA } from './spec/profiles.ts';
import type { ProfileData } from './spec/profile-data.ts';
import type { Operation } from './spec/operations.ts';
const data = PROFILE_DATA.skylake as ProfileData;
const rev = '0x4';
const setup: Operation[] = [
  { kind: 'write-memory', cpu: 0, address: '0x1000', value: rev },
  { kind: 'write-memory', cpu: 0, address: '0x2000', value: rev },
  { kind: 'vmxon', cpu: 0, pointer: '0x1000' },
];
const body: Operation[] = [];
for (let i = 0; i < 1000; i++) {
  body.push({ kind: 'vmclear', cpu: 0, pointer: '0x2000' });
  body.push({ kind: 'vmptrld', cpu: 0, pointer: '0x2000' });
  body.push({ kind: 'vmwrite', cpu: 0, encoding: '0x681e', value: '0x' + (i * 7919).toString(16) });
  body.push({ kind: 'vmwrite', cpu: 0, encoding: '0x4002', value: '0x' + (i * 31).toString(16) });
  body.push({ kind: 'vmlaunch', cpu: 0 });
  body.push({ kind: 'vmread', cpu: 0, encoding: '0x681e' });
}
function run(n: number) {
  const e = createImplEngine({ profile: data, logicalProcessors: 2 });
  for (const op of setup) e.step(op);
  let c = 0;
  for (let r = 0; r < n; r++) for (const op of body) { const o = e.step(op); if (o.kind === 'vmsucceed') c++; }
  return c;
}
for (let round = 0; round < 5; round++) {
  const t = performance.now(); const c = run(200); const dt = performance.now() - t;
  console.log('Engine.step steps/s', (200 * body.length / dt * 1000 / 1e6).toFixed(2), 'M', c);
}
process.exit(0);
const prog = compile(body);
const m = createImplMachine({ profile: data, logicalProcessors: 2 });
for (const op of setup) {} 
m.writeMemory(0, 0x1000, 0, 4); m.writeMemory(0, 0x2000, 0, 4); m.vmxon(0, 0x1000, 0);
const st = new Int32Array(body.length);
for (let round = 0; round < 5; round++) {
  const t = performance.now(); for (let r = 0; r < 200; r++) runCompiled(m, prog, st); const dt = performance.now() - t;
  console.log('runCompiled steps/s', (200 * body.length / dt * 1000 / 1e6).toFixed(2), 'M');
}
