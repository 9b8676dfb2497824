/**
 * The architectural exceptions (vectors 0-31) as the engine contract names them: a `fault`
 * observation carries the mnemonic, the `exception` guest operation the vector. Which exceptions
 * push an error code follows SDM Vol. 3A, December 2023, §6.15 "Exception and Interrupt Reference"
 * (Table 6-1 "Protected-Mode Exceptions and Interrupts"); VM entry's event-injection checks use
 * the same set (Vol. 3C §27.2.1.3 "Checks on VM-Entry Control Fields").
 */

/** Mnemonic of each exception vector that the architecture defines, by vector. */
export const EXCEPTION_MNEMONIC = {
  0: 'DE',
  1: 'DB',
  2: 'NMI',
  3: 'BP',
  4: 'OF',
  5: 'BR',
  6: 'UD',
  7: 'NM',
  8: 'DF',
  10: 'TS',
  11: 'NP',
  12: 'SS',
  13: 'GP',
  14: 'PF',
  16: 'MF',
  17: 'AC',
  18: 'MC',
  19: 'XM',
  20: 'VE',
  21: 'CP',
} as const;

/** An exception mnemonic of {@link EXCEPTION_MNEMONIC}. */
export type ExceptionMnemonic = (typeof EXCEPTION_MNEMONIC)[keyof typeof EXCEPTION_MNEMONIC];

/** Every mnemonic, in vector order. */
export const EXCEPTION_MNEMONICS: readonly ExceptionMnemonic[] = Object.values(EXCEPTION_MNEMONIC);

/** Vectors whose delivery pushes an error code: #DF, #TS, #NP, #SS, #GP, #PF, #AC, #CP. */
export const EXCEPTIONS_WITH_ERROR_CODE: ReadonlySet<number> = new Set([8, 10, 11, 12, 13, 14, 17, 21]);

/** The vector of `mnemonic`. */
export function vectorOf(mnemonic: ExceptionMnemonic): number {
  const entry = Object.entries(EXCEPTION_MNEMONIC).find(([, name]) => name === mnemonic);
  if (entry === undefined) throw new Error(`unknown exception mnemonic ${mnemonic}`);
  return Number(entry[0]);
}

/** The mnemonic of `vector`, or `undefined` for a reserved or non-architectural vector. */
export function mnemonicOf(vector: number): ExceptionMnemonic | undefined {
  return (EXCEPTION_MNEMONIC as Record<number, ExceptionMnemonic>)[vector];
}
