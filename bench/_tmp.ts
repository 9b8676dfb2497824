import { benchVmExit } from './vm-exit.ts';
import { createProfile } from '../spec/profile.ts';
import { PROFILE_DATA } from '../spec/profiles.ts';
const p = createProfile(PROFILE_DATA.skylake as never);
console.log(benchVmExit(p, 31, 20000));
