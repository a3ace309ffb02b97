// Small display helpers.

export function ms(value) {
  if (value == null || !Number.isFinite(value)) return '—';
  if (value < 1000) return `${Math.round(value)} ms`;
  if (value < 60_000) return `${(value / 1000).toFixed(1)} s`;
  return `${Math.floor(value / 60_000)} min ${Math.round((value % 60_000) / 1000)} s`;
}

export function bytes(value) {
  if (!value) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let i = 0;
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  return `${value.toFixed(i ? 1 : 0)} ${units[i]}`;
}

export function short(hex, keep = 10) {
  return hex.length > 2 * keep + 3 ? `${hex.slice(0, keep)}…${hex.slice(-keep + 2)}` : hex;
}

/** Wei per gas (a decimal string: it may exceed 2^53) in gwei, up to 9 decimals, exactly. */
export function gwei(wei) {
  const n = BigInt(wei);
  const whole = n / 1_000_000_000n;
  const frac = (n % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return frac ? `${whole}.${frac}` : `${whole}`;
}

/** An error as the app shows it: its code (an AirproverError's, or the contract's reason) and message. */
export function describe(e) {
  const code = e?.code ?? e?.reason ?? e?.name ?? 'ERROR';
  // airprover's messages start with their code (as the CLI prints them): shown once is enough.
  const text = String(e?.message ?? e);
  const message = text.startsWith(`${code}: `) ? text.slice(code.length + 2) : text;
  return { code, message };
}
