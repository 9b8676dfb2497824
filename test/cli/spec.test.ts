/** `vmx-conformance spec <table>`: the SDM tables of spec/, as text and as JSON. */
import { describe, expect, it } from 'vitest';
import { cli } from './helpers.ts';

describe('vmx-conformance spec', () => {
  it('prints the VMCS fields with encodings, widths, types and what makes them exist', async () => {
    const r = await cli('spec', 'fields', '--json');
    expect(r.code).toBe(0);
    const table = JSON.parse(r.stdout);
    expect(table.citation).toContain('Appendix B');
    // SDM Appendix B: the VM-instruction error field is 32-bit read-only data at 4400H.
    expect(table.rows).toContainEqual(expect.objectContaining({ encoding: '0x4400', width: 32, type: 'exit-information', exists: 'always' }));
    // The VPID field exists only with the "enable VPID" secondary control (bit 5).
    expect(table.rows).toContainEqual(expect.objectContaining({ encoding: '0x0000', exists: 'secondary control bit 5' }));
  });

  it('prints the VM-instruction errors, exit reasons and controls', async () => {
    const errors = JSON.parse((await cli('spec', 'errors', '--json')).stdout);
    expect(errors.rows).toContainEqual(expect.objectContaining({ number: 10, name: 'VMPTRLD_VMXON_POINTER' }));
    const exits = JSON.parse((await cli('spec', 'exit-reasons', '--json')).stdout);
    expect(exits.rows).toContainEqual(expect.objectContaining({ number: 18, name: 'VMCALL' }));
    const controls = JSON.parse((await cli('spec', 'controls', '--json')).stdout);
    expect(controls.rows).toContainEqual(expect.objectContaining({ set: 'primary', bit: 31 }));
  });

  it('prints the named profiles as a text table', async () => {
    const r = await cli('spec', 'profiles');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^name\s+revisionId\s.*description$/m);
    for (const name of ['core2', 'skylake', 'maximal']) expect(r.stdout).toContain(name);
  });

  it('rejects an unknown table, exit code 2', async () => {
    expect((await cli('spec', 'opcodes')).code).toBe(2);
  });
});
