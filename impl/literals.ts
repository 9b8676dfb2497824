/**
 * Load-time check for the `const enum K` blocks of impl/'s hot files. Trick: esbuild (through tsx
 * and vitest) writes every use of a const enum member as a literal, while a module-level `const`
 * is loaded from the module context, with a type check, at every use. The members must be
 * literals, so a value taken from spec/ (a control bit, a row offset) is restated there; each such
 * file ends with one call of {@link assertLiterals} comparing every restated literal with the
 * expression it replaces, so that a change in spec/ fails loudly when the module loads.
 */

/** Throws when a literal differs from the value of the expression it stands for. */
export function assertLiterals(file: string, pairs: readonly (readonly [number, number])[]): void {
  pairs.forEach(([literal, value], i) => {
    if (literal !== value) throw new Error(`impl bug: ${file}: literal ${i} of K is ${literal}, its expression is ${value}`);
  });
}
