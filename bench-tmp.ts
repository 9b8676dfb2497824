import { createImplMachine, ImplMachine } from './impl/index.ts';
import { PROFILE_DATA } from './spec/profiles.ts';
import type { ProfileData } from './spec/profile-data.ts';
const data = PROFILE_DATA.skylake as ProfileData;
const m = createImplMachine({ profile: data, logicalProcessors: 2 });
const rev = m.profile.revisionId;
m.writeMemory(0, 0x1000, 0, rev); m.writeMemory(0, 0x2000, 0, rev);
console.log(m.vmxon(0, 0x1000, 0), m.vmclear(0, 0x2000, 0), m.vmptrld(0, 0x2000, 0));
const encs = new Int32Array([0x681e, 0x4002, 0x2000, 0x0800, 0x6c00, 0x401e, 0x2001, 0x4826]);
function pairs(m: ImplMachine, start: number, n: number): number {
  let acc = 0;
  for (let i = start; i < start + n; i++) {
    const e = encs[i & 7]!;
    acc = (acc + m.vmwrite(0, e, 0, Math.imul(i, 0x9e3779b1), i)) | 0;
    acc = (acc + m.vmread(0, e, 0)) | 0;
    acc = (acc ^ m.resultLo) | 0;
  }
  return acc;
}
for (let round = 0; round < 8; round++) {
  const t = performance.now(); let acc = 0; const N = 10_000_000;
  for (let k = 0; k < N; k += 10000) acc ^= pairs(m, k, 10000);
  const dt = performance.now() - t;
  console.log('pairs/s', (N / dt * 1000 / 1e6).toFixed(1), 'M', acc);
}
