/**
 * Inline specs already checked, by their JSON text: clients that start runs of the same inline
 * spec over and over (a CI job, a script) pay validateSpec (a few hundred µs of CPU, about a
 * tenth of a start's time in the API) once. The check depends only on the spec and the limits,
 * both fixed for a key here; only passing specs are kept, and only small ones.
 */
import type { Spec } from '../../workflows/contracts/spec';
import type { SpecLimits } from '../../workflows/spec/schema';
import { validateSpec, type SpecValidation } from '../../workflows/spec/validate';

/** Specs kept (least recently used dropped first). */
const MAX_ENTRIES = 256;
/** Larger specs are checked every time: the key alone would be a large string to keep. */
const MAX_KEY_CHARS = 64 * 1024;

export class CheckedSpecs {
  private readonly passed = new Map<string, Spec>();

  constructor(private readonly limits: SpecLimits) {}

  /** validateSpec(raw, base, limits), answered from memory when this JSON text passed before. */
  check(raw: unknown, base: string): SpecValidation {
    const key = JSON.stringify(raw) ?? '';
    const keep = key.length <= MAX_KEY_CHARS;
    const known = keep ? this.passed.get(key) : undefined;
    if (known) {
      this.passed.delete(key);
      this.passed.set(key, known);
      return { ok: true, spec: known };
    }
    const checked = validateSpec(raw, base, this.limits);
    if (checked.ok && keep) {
      this.passed.set(key, checked.spec);
      if (this.passed.size > MAX_ENTRIES) this.passed.delete(this.passed.keys().next().value as string);
    }
    return checked;
  }
}
