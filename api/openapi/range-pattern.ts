/**
 * Regular expressions for bounded numbers, so a pattern in the document can say exactly which
 * values the server accepts (a fuzzer's schema-valid value must then be a valid one).
 */

const anyDigits = (count: number): string => (count === 0 ? '' : count === 1 ? '[0-9]' : `[0-9]{${count}}`);
const digitRange = (low: number, high: number): string => (low === high ? String(low) : `[${low}-${high}]`);

/** The integers 1..max written without leading zeros, as alternatives (no anchors, no group). */
export function positiveIntegerPattern(max: number): string {
  if (!Number.isSafeInteger(max) || max < 1) throw new RangeError(`max must be a positive integer, got ${max}`);
  const digits = String(max);
  const alternatives: string[] = [];
  // Every shorter number.
  for (let length = 1; length < digits.length; length++) alternatives.push(`[1-9]${anyDigits(length - 1)}`);
  // As long as max: max's first i digits, a smaller digit at i, anything after.
  for (let i = 0; i < digits.length; i++) {
    const digit = Number(digits[i]);
    const low = i === 0 ? 1 : 0;
    if (digit > low)
      alternatives.push(`${digits.slice(0, i)}${digitRange(low, digit - 1)}${anyDigits(digits.length - i - 1)}`);
  }
  alternatives.push(digits);
  return alternatives.join('|');
}
