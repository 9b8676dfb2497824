import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createModelState, step } from '../../model/index.ts';
import { evaluate } from '../../model/vm-entry/check.ts';
import { profileDataArbitrary } from '../../properties/arbitraries/profile.ts';
import { emptyEntryCheckCoverage, finishEntryChecks, pastBasicChecks, recordEntryChecks } from '../../properties/entry-check-coverage.ts';
import { runDifferential } from '../../properties/differential.ts';
import { TARGET_CHECKS, builtVmcs, vmEntrySteps } from '../../properties/generators/vm-entry-steps.ts';
import { buildMemory, buildVmcs, memoryReader, supportedOptions, type BuildOptions } from '../../properties/generators/vmcs-builder.ts';
import { builtEnvironment, modelRule, modelledRules, perturbationsOf, viewWith } from '../../properties/generators/vmcs-perturb.ts';
import { FIELD } from '../../spec/fields.ts';
import { toHex } from '../../spec/hex.ts';
import { createProfile, type Profile } from '../../spec/profile.ts';
import { loadProfile } from '../../spec/profiles.ts';
import { createImplEngine } from '../../impl/index.ts';

const BUILT_IN = ['core2', 'skylake', 'maximal'].map(loadProfile);

/** The modelled rules that do not pass (or do not apply) over the VMCS built with `options`. */
function notPassing(profile: Profile, options: BuildOptions): string[] {
  const values = buildVmcs(profile, options);
  const env = { ...builtEnvironment(profile), readMemory32: memoryReader(buildMemory(profile, options)) };
  return modelledRules()
    .map((rule) => ({ id: rule.id, kind: evaluate(rule, viewWith(values), env).kind }))
    .filter((r) => r.kind !== 'pass' && r.kind !== 'not-applicable')
    .map((r) => `${r.id}: ${r.kind}`);
}

describe('the VMCS builder', () => {
  it('offers 64-bit, 32-bit (32-bit paging, PAE paging, virtual-8086) and (with unrestricted guest) real-mode guests on the built-in profiles', () => {
    const guests = (p: Profile) => new Set(supportedOptions(p).map((o) => o.guest));
    expect([...guests(loadProfile('skylake'))].sort()).toEqual(['32-bit', '32-bit-pae', '64-bit', 'real', 'v8086']);
    expect(supportedOptions(loadProfile('skylake')).some((o) => o.unrestricted && o.guest === '64-bit')).toBe(true);
    expect(supportedOptions(loadProfile('core2')).some((o) => o.secondary)).toBe(false);
  });

  it('builds a VMCS that passes every modelled check on each built-in profile and option', () => {
    for (const profile of BUILT_IN) {
      for (const options of supportedOptions(profile)) expect(notPassing(profile, options), `${profile.name} ${JSON.stringify(options)}`).toEqual([]);
    }
  });

  it('builds a VMCS that passes every modelled check on random profiles', () => {
    fc.assert(
      fc.property(profileDataArbitrary(), (data) => {
        const profile = createProfile(data);
        for (const options of supportedOptions(profile)) expect(notPassing(profile, options)).toEqual([]);
      }),
      { seed: 7, numRuns: 40 },
    );
  });

  it('writes only fields the profile has, with the link pointer all ones', () => {
    const core2 = loadProfile('core2');
    const values = buildVmcs(core2, supportedOptions(core2)[0] as BuildOptions);
    expect([...values.keys()].every((field) => core2.fieldExists(FIELD[field]))).toBe(true);
    expect(values.get('VMCS_LINK_POINTER')).toBe(0xffff_ffff_ffff_ffffn);
    expect(values.has('EPT_POINTER')).toBe(false);
  });
});

describe('the perturbations', () => {
  /**
   * Modelled checks no perturbation of a built VMCS fails on the built-in profiles, and why. FRED
   * state no profile has (every check named for FRED). The processor's own mode, not a VMCS field. The
   * PDPTEs and the MSR-load area read from memory (zeros here, every msr-load check). Failures that need more than the search tries (three
   * bits in one field, or two fields with a third as gate): an event that is a valid hardware
   * exception with an error code; blocking against an NMI with virtual NMIs; an SMM or SGX
   * setting; the executive-VMCS pointer; a capability every built-in profile has (EPT
   * accessed/dirty flags); reserved bits of a perf-global-ctrl or spec-ctrl value, gated by a
   * control and a profile fact.
   */
  const KNOWN_UNREACHABLE = new Set([
    'address-space-size.ia32e-guest-needs-ia32e-host-processor',
    'address-space-size.host-size-zero-outside-ia32e',
    ...[0, 1, 2, 3].map((n) => `guest-pdptes.pdpte${n}-in-memory`),
    'event-injection.hardware-exception-vector',
    'event-injection.error-code-required',
    'event-injection.error-code-forbidden',
    'event-injection.error-code-reserved-bits',
    'guest-non-register-state.sti-blocking-vs-nmi',
    'guest-non-register-state.nmi-blocking-vs-virtual-nmi',
    'guest-non-register-state.wait-for-sipi-not-entering-smm',
    'guest-non-register-state.enclave-interruption-requires-sgx',
    'guest-non-register-state.link-pointer-not-executive-vmcs',
    'execution-controls.eptp-accessed-dirty',
    'host-control-registers.perf-global-ctrl-reserved',
    'guest-control-registers.perf-global-ctrl-reserved',
    'guest-control-registers.spec-ctrl-writable',
  ]);
  const knownUnreachable = (id: string): boolean => /-fred\b|\.fred-|^msr-load\./.test(id) || KNOWN_UNREACHABLE.has(id);

  it('make each modelled check fail, and their passing side keeps it passing, on the built-in profiles', () => {
    const failable = new Set<string>();
    for (const profile of BUILT_IN) {
      const env = builtEnvironment(profile);
      const all = supportedOptions(profile);
      // A 64-bit guest without secondary controls, and the richest option (unrestricted guest, real mode where possible).
      for (const options of [all[0], all[all.length - 1]] as BuildOptions[]) {
        const values = builtVmcs(profile, options);
        for (const rule of modelledRules()) {
          const found = perturbationsOf(profile, options, values, rule.id);
          expect(found.verified).toBe(true);
          if (found.failing.length > 0) failable.add(rule.id);
          // A provider's failing side may be a check the SDM lets fail (the engine decides).
          for (const p of found.failing) expect(['fail', 'may-fail']).toContain(evaluate(rule, viewWith(values, p.changes), builtEnvironment(profile, p.before)).kind);
          for (const p of found.passing) expect(evaluate(rule, viewWith(values, p.changes), builtEnvironment(profile, p.before)).kind).toBe('pass');
        }
      }
    }
    const unreachable = modelledRules().filter((rule) => !failable.has(rule.id)).map((rule) => rule.id);
    expect(unreachable.filter((id) => !knownUnreachable(id))).toEqual([]);
  });

  it('put an exact perturbation first: it fails no other modelled rule', () => {
    const profile = loadProfile('skylake');
    const options = supportedOptions(profile)[0] as BuildOptions;
    const values = builtVmcs(profile, options);
    const first = perturbationsOf(profile, options, values, 'exit-controls.msr-load-aligned').failing[0]?.changes ?? [];
    const failing = modelledRules().filter((rule) => evaluate(rule, viewWith(values, first), builtEnvironment(profile)).kind === 'fail');
    expect(failing.map((r) => r.id)).toEqual(['exit-controls.msr-load-aligned']);
    // The check applies only with a nonzero count: the perturbation opens the gate and breaks the alignment.
    expect(first.map((c) => c.field).sort()).toEqual(['VM_EXIT_MSR_LOAD_ADDRESS', 'VM_EXIT_MSR_LOAD_COUNT']);
  });

  it('are judged by the model exactly for the checks it implements, otherwise unverified flips of the catalogue fields', () => {
    const profile = loadProfile('skylake');
    const options = supportedOptions(profile)[0] as BuildOptions;
    for (const check of TARGET_CHECKS.filter((_, i) => i % 7 === 0)) {
      const found = perturbationsOf(profile, options, builtVmcs(profile, options), check.id);
      expect(found.verified, check.id).toBe(modelRule(check.id) !== undefined);
      if (!found.verified) for (const p of found.failing) expect(check.fields).toContain(p.changes[0]?.field);
    }
  });
});

describe('the VM-entry step group', () => {
  it('reaches VM entry past the basic checks on the emulator, and VMLAUNCH is never a field-unknown entry', () => {
    const profile = loadProfile('skylake');
    const coverage = emptyEntryCheckCoverage();
    let entries = 0;
    fc.assert(
      fc.property(vmEntrySteps(profile, 0), (ops) => {
        expect(ops.filter((op) => op.kind === 'vmlaunch').length).toBeGreaterThan(0);
        const engine = createImplEngine({ profile: profile.data, logicalProcessors: 1 });
        const outcome = runDifferential(engine, profile, 1, ops);
        expect(outcome.kind).toBe('conformant');
        const launch = outcome.steps.find((s) => s.operation.kind === 'vmlaunch');
        if (launch === undefined) return;
        expect(launch.verdict.kind === 'defined' ? 'defined' : launch.verdict.rule.id).not.toBe('vm-entry.field-unknown');
        if (pastBasicChecks(launch)) entries += 1;
        recordEntryChecks(coverage, outcome.steps, createModelState(profile, 1));
      }),
      { seed: 3, numRuns: 60 },
    );
    finishEntryChecks(coverage);
    expect(entries).toBeGreaterThan(30);
    expect(Object.keys(coverage.hitPassing).length).toBeGreaterThan(0);
    expect(coverage.notHitFailing.length + Object.keys(coverage.hitFailing).length).toBe(coverage.total);
  });

  it('writes the built VMCS field by field before VMLAUNCH, then reads the exit information', () => {
    const profile = loadProfile('maximal');
    const [ops] = fc.sample(vmEntrySteps(profile, 0), { seed: 1, numRuns: 1 });
    const writes = (ops ?? []).filter((op) => op.kind === 'vmwrite');
    expect(writes.length).toBeGreaterThanOrEqual(buildVmcs(profile, supportedOptions(profile)[0] as BuildOptions).size - 1);
    const launch = (ops ?? []).findIndex((op) => op.kind === 'vmlaunch');
    expect((ops ?? [])[launch + 1]).toEqual({ kind: 'vmread', cpu: 0, encoding: toHex(BigInt(FIELD.VM_INSTRUCTION_ERROR)) });
    expect(step(createModelState(profile, 1), ops?.[0] ?? { kind: 'vmxoff', cpu: 0 }).kind).toBe('defined');
  });
});

describe('the VM-entry check coverage of a run', () => {
  it('counts a basic check hit failing through the VMLAUNCH rule that reports it, and lists the rest as not hit', () => {
    const profile = loadProfile('skylake');
    const coverage = emptyEntryCheckCoverage();
    const engine = createImplEngine({ profile: profile.data, logicalProcessors: 1 });
    const outcome = runDifferential(engine, profile, 1, [{ kind: 'vmlaunch', cpu: 0 }]);
    recordEntryChecks(coverage, outcome.steps, createModelState(profile, 1));
    finishEntryChecks(coverage);
    expect(coverage.hitFailing).toEqual({ 'basic.in-vmx-operation': 1 });
    expect(coverage.hitPassing).toEqual({});
    expect(coverage.notHitFailing).not.toContain('basic.in-vmx-operation');
    expect(coverage.notHitFailing).toHaveLength(coverage.total - 1);
  });
});
