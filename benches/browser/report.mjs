// Tables of `make bench-browser` (Markdown: printed, and the README's `## Speed` section).

export const CONFIGS = [
  ['native-1', 'native 1 thread'],
  ['native-all', 'native all threads'],
  ['rapidsnark', 'rapidsnark all threads'],
  ['wasm-single', 'wasm single'],
  ['wasm-threads', 'wasm threads'],
  ['snarkjs-single', 'snarkjs singleThread'],
  ['snarkjs-threads', 'snarkjs threads'],
];

const STAGES = ['synthesis', 'constraint-check', 'qap', 'msm-h', 'msm-l', 'msm-a', 'msm-b1', 'msm-b2', 'verify'];

const s = (ms) => (Number.isFinite(ms) ? (ms / 1e3).toFixed(2) : '–');
const mib = (b) => (b ? `${(b / 2 ** 20).toFixed(0)} MiB` : '–');
const x = (r) => (Number.isFinite(r) ? `${r.toFixed(2)}x` : '–');

/** How the runs were taken, in words. */
function rounds(doc) {
  return doc.rounds
    ? `${doc.rounds} rounds of ${doc.runsPerRound} each, the configurations of a circuit interleaved`
    : 'one session per configuration';
}

function config(row, name) {
  return row.configs.find((c) => c.config === name);
}

/** `a / b` of the median times: how many times faster `b` is than `a`. */
export function ratio(row, slow, fast) {
  const a = config(row, slow)?.medianMs;
  const b = config(row, fast)?.medianMs;
  return a && b ? a / b : NaN;
}

function table(header, rows) {
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

export function speedTable(doc) {
  return table(
    ['circuit (constraints: airprover / circom)', ...CONFIGS.map(([, label]) => label)],
    doc.results.map((row) => [
      `${row.circuit} (${row.constraints ?? '?'} / ${row.snarkjsConstraints ?? '?'})`,
      ...CONFIGS.map(([name]) => {
        const c = config(row, name);
        return c ? `${s(c.medianMs)} (${s(c.minMs)})${c.cpu?.busy ? ' *' : ''}` : '–';
      }),
    ]),
  );
}

export function ratioTable(doc) {
  return table(
    ['circuit', 'wasm threads vs snarkjs threads', 'wasm single vs snarkjs singleThread', 'wasm threads vs single', 'native all vs 1', 'wasm threads / native all', 'wasm single / native 1'],
    doc.results.map((row) => [
      row.circuit,
      `${x(ratio(row, 'snarkjs-threads', 'wasm-threads'))} faster`,
      `${x(ratio(row, 'snarkjs-single', 'wasm-single'))} faster`,
      x(ratio(row, 'wasm-single', 'wasm-threads')),
      x(ratio(row, 'native-1', 'native-all')),
      x(1 / ratio(row, 'native-all', 'wasm-threads')),
      x(1 / ratio(row, 'native-1', 'wasm-single')),
    ]),
  );
}

export function memoryTable(doc) {
  return table(
    ['circuit', ...CONFIGS.map(([, label]) => label), 'key bytes (airprover / zkey)', 'key load (native / wasm / snarkjs)'],
    doc.results.map((row) => {
      const pk = config(row, 'wasm-threads') ?? config(row, 'native-1');
      const zk = config(row, 'snarkjs-threads');
      const load = ['native-1', 'wasm-threads', 'snarkjs-threads'].map((n) => config(row, n)?.keyLoadMs);
      return [
        row.circuit,
        ...CONFIGS.map(([name]) => {
          const c = config(row, name);
          if (!c) return '–';
          return c.wasmMemoryBytes ? `${mib(c.peakRssBytes)} (wasm ${mib(c.wasmMemoryBytes)})` : mib(c.peakRssBytes);
        }),
        `${mib(pk?.keyBytes)} / ${mib(zk?.keyBytes)}`,
        load.map((ms) => (Number.isFinite(ms) ? `${ms.toFixed(0)} ms` : '–')).join(' / '),
      ];
    }),
  );
}

/** The first proof after the key is loaded, and the load itself: what a page proving once waits for. */
export function coldTable(doc) {
  const names = ['native-all', 'wasm-single', 'wasm-threads', 'snarkjs-single', 'snarkjs-threads'];
  return table(
    ['first proof, s (key load, ms)', ...names.map((n) => CONFIGS.find(([c]) => c === n)[1])],
    doc.results.map((row) => [
      row.circuit,
      ...names.map((n) => {
        const c = config(row, n);
        return c ? `${s(c.coldMs)} (${Number.isFinite(c.keyLoadMs) ? c.keyLoadMs.toFixed(0) : '–'})` : '–';
      }),
    ]),
  );
}

/**
 * The same-key rows beside the circuit's own: airprover on its own circuit and key (the rows
 * above) and on snarkjs's zkey and witness wasm of the circom circuit, each beside the peer it is
 * measured against. snarkjs proves the circom circuit in both rows: in its own page (the first)
 * and interleaved with airprover in one page (the second).
 */
export function sameKeyTable(doc) {
  const cell = (row, name) => {
    const c = config(row, name);
    return c ? `${s(c.medianMs)} (${s(c.minMs)})${c.cpu?.busy ? ' *' : ''}` : '–';
  };
  const rows = [];
  for (const row of sameKeyRows(doc)) {
    rows.push([`${row.circuit}: airprover's circuit and key`, ...['native-all', 'rapidsnark', 'wasm-single', 'snarkjs-single', 'wasm-threads', 'snarkjs-threads'].map((n) => cell(row, n))]);
    rows.push([
      `${row.circuit}: snarkjs's zkey and witness wasm (same key)`,
      ...['samekey-native', 'rapidsnark', 'samekey-wasm-single', 'samekey-snarkjs-single', 'samekey-wasm-threads', 'samekey-snarkjs-threads'].map((n) => cell(row, n)),
    ]);
  }
  return table(['circuit and key', 'airprover native all threads', 'rapidsnark all threads', 'airprover wasm single', 'snarkjs singleThread', 'airprover wasm threads', 'snarkjs threads'], rows);
}

/** The circuits with same-key rows. */
function sameKeyRows(doc) {
  return doc.results.filter((row) => row.configs.some((c) => c.config.startsWith('samekey-')));
}

/** The ratios of the same-key rows beside those of the circuit's own. */
export function sameKeyRatioTable(doc) {
  const pair = (row, slowOwn, fastOwn, slowSame, fastSame) => `${x(ratio(row, slowOwn, fastOwn))} / ${x(ratio(row, slowSame, fastSame))}`;
  return table(
    ['circuit (own key / same key)', 'wasm threads vs snarkjs threads', 'wasm single vs snarkjs singleThread', 'native all threads vs rapidsnark'],
    sameKeyRows(doc).map((row) => [
      row.circuit,
      pair(row, 'snarkjs-threads', 'wasm-threads', 'samekey-snarkjs-threads', 'samekey-wasm-threads'),
      pair(row, 'snarkjs-single', 'wasm-single', 'samekey-snarkjs-single', 'samekey-wasm-single'),
      pair(row, 'rapidsnark', 'native-all', 'rapidsnark', 'samekey-native'),
    ]),
  );
}

/**
 * What airprover's public API does around the prover, on the same key: the job's public stages
 * (progress events: `start` the queue and the key's lookup, `witness` circom's witness wasm, the synthesis and the constraint check;
 * `proving` the QAP and the MSMs; `verifying` the worker's self-check, the result's message and
 * the page's check), the share of the proof outside `proving`, circom's witness wasm alone on
 * each side, and natively the CLI with circom's witness wasm against the CLI given snarkjs's
 * witness file.
 */
export function sameKeyStageTable(doc) {
  const ms = (v) => (Number.isFinite(v) ? v.toFixed(0) : '–');
  const rows = [];
  for (const row of sameKeyRows(doc)) {
    for (const build of ['single', 'threads']) {
      const c = config(row, `samekey-wasm-${build}`);
      if (!c) continue;
      const st = c.stages ?? {};
      const outside = c.medianMs - (st.proving ?? NaN);
      rows.push([
        `${row.circuit} wasm ${build}`,
        ms(st.start),
        ms(st.witness),
        ms(st.proving),
        ms(st.verifying),
        ms(c.medianMs),
        Number.isFinite(outside) ? `${ms(outside)} (${((100 * outside) / c.medianMs).toFixed(0)}%)` : '–',
        `${ms(config(row, `samekey-witness-airprover-${build}`)?.medianMs)} / ${ms(config(row, `samekey-witness-snarkjs-${build}`)?.medianMs)}`,
        ms(c.keyLoadMs),
      ]);
    }
    const wtns = config(row, 'samekey-native');
    const full = config(row, 'samekey-native-fullprove');
    if (wtns || full) {
      rows.push([`${row.circuit} native (CLI, one process a proof)`, '–', '–', '–', '–', `${ms(wtns?.medianMs)} (--wtns) / ${ms(full?.medianMs)} (--wasm --input)`, full && wtns ? `${ms(full.medianMs - wtns.medianMs)} (the witness wasm run natively)` : '–', '–', '–']);
    }
  }
  return table(
    ['same key, medians in ms', 'start (queue, key lookup)', 'witness (circom wasm, synthesis, constraint check)', 'proving (QAP, MSMs)', 'verifying (worker and page)', 'total', 'outside proving', "circom's witness wasm alone: airprover / snarkjs", 'first job: worker start, zkey conversion'],
    rows,
  );
}

/** The stages from the QAP to the last MSM: one phase where they run at once. */
const PROVING = ['qap', 'msm-h', 'msm-l', 'msm-a', 'msm-b1', 'msm-b2'];

/**
 * Stage medians. Where a pool has threads (native, wasm threads) the QAP and the five MSMs run at
 * once and a stage's progress marks interleave with the others', so only their sum (the phase's
 * wall time) means something; the split is given for the single-threaded wasm build, whose
 * stages run one after another.
 */
export function stageTable(doc) {
  const rows = [];
  const ms = (v) => (Number.isFinite(v) ? v.toFixed(0) : '–');
  for (const row of doc.results) {
    for (const name of ['native-1', 'native-all', 'wasm-single', 'wasm-threads']) {
      const c = config(row, name);
      if (!c?.stages) continue;
      const sequential = name === 'wasm-single';
      const phase = PROVING.reduce((t, st) => t + (c.stages[st] ?? 0), 0);
      rows.push([
        `${row.circuit} ${name}`,
        ms(c.stages.synthesis),
        ms(c.stages['constraint-check']),
        ms(phase),
        ...PROVING.map((st) => (sequential ? ms(c.stages[st]) : '–')),
        ms(c.stages.verify),
      ]);
    }
  }
  return table(['stage medians, ms', 'synthesis', 'constraint-check', 'QAP and MSMs', ...PROVING, 'verify'], rows);
}

/**
 * What the profile says is left: the share of each part of a proof in the single-threaded wasm
 * build, whose stages run one after another (in the threaded build the MSMs overlap, so their
 * stage times do not add up to the proof).
 */
export function profileNote(doc) {
  const row = doc.results.find((r) => r.circuit === 'threshold-d20-k8') ?? doc.results[0];
  const stages = row && config(row, 'wasm-single')?.stages;
  if (!stages) return '';
  const sum = (names) => names.reduce((t, n) => t + (stages[n] ?? 0), 0);
  const total = sum(STAGES);
  if (!(total > 0)) return '';
  const pct = (names) => `${((100 * sum(names)) / total).toFixed(0)}%`;
  return (
    `Where a proof's time goes (${row.circuit}, wasm single, stage medians): the five MSMs ` +
    `${pct(['msm-h', 'msm-l', 'msm-a', 'msm-b1', 'msm-b2'])} (B2, in G2, alone ${pct(['msm-b2'])}), ` +
    `the QAP's FFTs ${pct(['qap'])}, the witness (synthesis and the constraint check) ` +
    `${pct(['synthesis', 'constraint-check'])}, the self-check ${pct(['verify'])}.${zeroOneNote(row)} Every bucket ` +
    'addition is already affine with shared inversions (the bucket sums and their running sums) and ' +
    'G2\'s products reduce lazily, so what is left is the cost of one field multiplication (the ' +
    '29-bit Montgomery product: 54 limb products by Karatsuba and 81 for the reduction).' +
    precomputationNote(row)
  );
}

/**
 * Fixed-base precomputation keeps a multiple of every key point per window (about ten windows for
 * these circuits): the single-threaded build's peak memory next to snarkjs's says whether that fits.
 */
function precomputationNote(row) {
  const ours = config(row, 'wasm-single');
  const theirs = config(row, 'snarkjs-single');
  if (!ours?.peakRssBytes || !theirs?.peakRssBytes || !ours.keyBytes) return '';
  return (
    ' Fixed-base precomputation would keep a copy of the key\'s points for every window, about ten ' +
    `times the ${mib(ours.keyBytes)} key, while the single-threaded build peaks at ` +
    `${mib(ours.peakRssBytes)} against snarkjs's ${mib(theirs.peakRssBytes)}: it does not fit the ` +
    'memory target, so it is not built.'
  );
}

/** How many of the MSMs' scalars are 0 or 1 (bench_native counts the witness). */
function zeroOneNote(row) {
  const w = config(row, 'native-1')?.witness;
  if (!w) return '';
  const values = w.instance.values + w.private.values;
  const pct = (n) => `${((100 * n) / values).toFixed(1)}%`;
  return (
    ` Of the ${values} witness values (the scalars of the A, B1 and B2 MSMs), ${pct(w.instance.zero + w.private.zero)} are 0 ` +
    `(left out of every MSM) and ${pct(w.instance.one + w.private.one)} are 1 (one point each after the ` +
    'GLV split, whose zero half is dropped: one bucket addition in one window).'
  );
}

/** The targets (issues 15 and 32: wasm single >= 4.5x since issue 32) on threshold-d20-k8 (scaling and peak memory: every circuit), each with its value. */
export function targetTable(doc) {
  const row = doc.results.find((r) => r.circuit === 'threshold-d20-k8');
  const rows = [];
  const check = (what, value, goal, ok) => rows.push([what, x(value), goal, Number.isFinite(value) ? (ok(value) ? 'met' : 'not met') : '–']);
  if (row) {
    check('wasm threads vs snarkjs threads (threshold-d20-k8)', ratio(row, 'snarkjs-threads', 'wasm-threads'), '>= 5x', (v) => v >= 5);
    check('wasm single vs snarkjs singleThread (threshold-d20-k8)', ratio(row, 'snarkjs-single', 'wasm-single'), '>= 4.5x', (v) => v >= 4.5);
  }
  if (row && config(row, 'samekey-wasm-threads')) {
    check('wasm threads vs snarkjs threads (threshold-d20-k8, same key)', ratio(row, 'samekey-snarkjs-threads', 'samekey-wasm-threads'), '>= 5x', (v) => v >= 5);
    check('wasm single vs snarkjs singleThread (threshold-d20-k8, same key)', ratio(row, 'samekey-snarkjs-single', 'samekey-wasm-single'), '>= 4.5x', (v) => v >= 4.5);
  }
  for (const r of doc.results) {
    check(`native all threads vs rapidsnark (${r.circuit})`, ratio(r, 'rapidsnark', 'native-all'), '>= 1x', (v) => v >= 1);
    if (config(r, 'samekey-native')) {
      check(`native all threads vs rapidsnark (${r.circuit}, same key)`, ratio(r, 'rapidsnark', 'samekey-native'), '>= 1x', (v) => v >= 1);
    }
  }
  const goals = { 2: 1.9, 8: 6.5, 16: 12 };
  for (const r of doc.results) {
    for (const [kind, label] of [['native', 'native'], ['wasm-threads', 'wasm threaded']]) {
      for (const point of scaling(r, kind)) {
        if (goals[point.threads]) {
          check(`${label} ${point.threads} threads vs 1 (${r.circuit})`, point.speedup, `>= ${goals[point.threads]}x`, (v) => v >= goals[point.threads]);
        }
      }
    }
  }
  for (const r of doc.results) {
    for (const [build, label] of [['threads', 'threads'], ['single', 'singleThread']]) {
      const ours = config(r, `wasm-${build}`)?.peakRssBytes;
      const theirs = config(r, `snarkjs-${build}`)?.peakRssBytes;
      if (ours && theirs) {
        rows.push([`peak renderer memory, wasm ${build} / snarkjs ${label} (${r.circuit})`, x(ours / theirs), '<= 1x', ours <= theirs ? 'met' : 'not met']);
      }
    }
  }
  return table(['target', 'reached', 'goal', ''], rows);
}

/**
 * A circuit's runs of one kind (`native`, or `wasm-threads`: the threaded build) by pool size,
 * with the speed-up over its own 1-thread run and the parallel efficiency (speed-up / threads).
 */
function scaling(row, kind) {
  const points = row.configs
    .map((c) => {
      const m = c.config.match(kind === 'native' ? /^native-(\d+|all)$/ : /^wasm-threads(?:-(\d+))?$/);
      return m ? { threads: c.threads, ms: c.medianMs } : null;
    })
    .filter(Boolean)
    .sort((a, b) => a.threads - b.threads);
  const one = points.find((p) => p.threads === 1)?.ms;
  return points.map((p) => ({ ...p, speedup: one / p.ms, efficiency: one / p.ms / p.threads }));
}

/** Seconds, speed-up and efficiency per pool size (native and the threaded wasm build). */
export function scalingTable(doc) {
  const rows = [];
  for (const r of doc.results) {
    for (const [kind, label] of [['native', 'native'], ['wasm-threads', 'wasm threaded']]) {
      for (const p of scaling(r, kind)) {
        rows.push([`${r.circuit} ${label}`, String(p.threads), s(p.ms), x(p.speedup), Number.isFinite(p.efficiency) ? `${(100 * p.efficiency).toFixed(0)}%` : '–']);
      }
    }
  }
  const missing = doc.threads?.notMeasured?.length
    ? `\n\n${doc.threads.notMeasured.join(', ')} threads: not measured, the machine has ${doc.machine.cores} cores.`
    : '';
  return table(['circuit and prover', 'threads', 'seconds', 'speed-up vs 1 thread', 'efficiency'], rows) + missing;
}

/** Which circuits snarkjs did not run on in this run, and why. */
function skippedNote(doc) {
  const skipped = doc.snarkjsSkipped ?? [];
  return skipped.length
    ? `snarkjs was not run on ${skipped.join(', ')} in this run (\`BENCH_SNARKJS_CIRCUITS\` or \`BENCH_ONLY\`).`
    : '';
}

function busyNote(doc) {
  const busy = doc.results.flatMap((row) =>
    row.configs.filter((c) => c.cpu?.busy).map((c) => `${row.circuit} ${c.config} (${c.cpu.otherCores} cores)`),
  );
  return busy.length
    ? `\\* busy machine: other processes used CPU during these timings: ${busy.join(', ')}.`
    : 'No other process used a noticeable share of the CPU during the timings.';
}

/** The same-key tables, with a heading line each; empty without same-key rows. */
function sameKeySection(doc, heading) {
  if (!sameKeyRows(doc).length) return [];
  const rapidsnark = doc.rapidsnark ? ` rapidsnark: ${doc.rapidsnark}.` : ' rapidsnark was not built (benches/rapidsnark/build.sh).';
  return [
    heading(
      "Same key: airprover on snarkjs's own zkey and witness wasm of the circom circuit " +
        '(`benches/browser/circuits/`, the statement of the circuit named), beside the rows of its own circuit and key; ' +
        "in the browser through its public API (`createProver` with a circom manifest entry, as `airprover/snarkjs`'s " +
        '`fullProve` makes it; no proof cache) and snarkjs `groth16.fullProve` on the same bytes in one page, their ' +
        'proofs interleaved; natively `airprover prove --zkey --wtns` with the converted-key cache warm and rapidsnark on ' +
        `the same zkey and witness file, one process a proof. Median (min) seconds.${rapidsnark}`,
    ),
    sameKeyTable(doc),
    '',
    heading('Ratios (of medians), own key / same key:'),
    sameKeyRatioTable(doc),
    '',
    heading(
      "Where a same-key proof's time goes through the public API (stage medians from its progress events, ms); " +
        "circom's witness wasm alone is timed on the page (airprover's `circomWitness` with the wasm compiled once, " +
        "as its worker keeps it; snarkjs's `wtns.calculate`, which compiles it each time, as its `fullProve` does):",
    ),
    sameKeyStageTable(doc),
    '',
  ];
}

export function renderTables(doc) {
  return [
    `Proving time, seconds: median (min) of the warm runs after a cold one, ${rounds(doc)} (${doc.machine.cores} cores, ${doc.machine.cpu})`,
    speedTable(doc),
    busyNote(doc),
    skippedNote(doc),
    '',
    'Ratios (of medians)',
    ratioTable(doc),
    '',
    targetTable(doc),
    '',
    'Threads (median seconds; speed-up over the same prover on one thread)',
    scalingTable(doc),
    '',
    'Peak memory (process VmHWM; in Chromium the renderer, which hosts the workers) and keys',
    memoryTable(doc),
    '',
    'First proof after loading the key (the cold run), and the key load (airprover: download, SHA-256 check, parse; snarkjs: download, its proofs parse the zkey each time)',
    coldTable(doc),
    '',
    stageTable(doc),
    '',
    ...sameKeySection(doc, (line) => line),
  ].join('\n');
}

/** The hand-written blocks of a README section: each `<!-- kept -->` ... `<!-- /kept -->`, whole. */
export function keptBlocks(section) {
  return section.match(/^<!-- kept -->\n[\s\S]*?^<!-- \/kept -->\n/gm) ?? [];
}

/**
 * README.md with its `## Speed` section replaced (or added at the end). Hand-written blocks of the
 * old section between `<!-- kept -->` and `<!-- /kept -->` (measurements this bench does not
 * make, such as benches/native-asm.sh's) are carried over, at the section's end.
 */
export function renderReadme(before, doc) {
  const day = doc.date.slice(0, 10);
  const section = [
    '## Speed',
    '',
    `Measured by \`make bench-browser\` on ${day}: ${doc.machine.cores} cores (${doc.machine.cpu}), ` +
      `${doc.chromium}, snarkjs ${doc.snarkjs}, native ${doc.nativeBuild}. One run, ` +
      `${Math.round(doc.totalSeconds / 60)} minutes; raw numbers in \`target/bench/browser.json\`. ` +
      'airprover proves through its own worker with the key already loaded; snarkjs runs ' +
      '`groth16.fullProve` (witness included) on the same statement written in circom ' +
      '(`benches/browser/circuits/`), with its wasm and zkey already in memory.',
    '',
    '![Proving time per circuit](docs/bench-speed.svg)',
    '',
    `Proving time, seconds: median (min) of the warm runs after a cold one, ${rounds(doc)}.`,
    '',
    speedTable(doc),
    '',
    busyNote(doc),
    skippedNote(doc),
    '',
    ratioTable(doc),
    '',
    'Targets (issues 15 and 32), from this run:',
    '',
    targetTable(doc),
    '',
    'Threads: median seconds, the speed-up over the same prover on a 1-thread pool, and the ' +
      'parallel efficiency (speed-up / threads):',
    '',
    scalingTable(doc),
    '',
    'Peak memory (process VmHWM; in Chromium the renderer, which hosts the workers) and keys:',
    '',
    memoryTable(doc),
    '',
    'The first proof after loading the key (the cold run), with the key load in brackets ' +
      '(airprover: download, SHA-256 check against the manifest, parse; snarkjs: download only, ' +
      'since every `fullProve` parses the zkey again):',
    '',
    coldTable(doc),
    '',
    ...sameKeySection(doc, (line) => `${line}\n`),
    '<details><summary>Where the time goes (stage medians, ms)</summary>',
    '',
    'Where the pool has threads the QAP and the five MSMs run at once, so only their sum is given; ' +
      'the split is that of the single-threaded wasm build, whose stages run one after another.',
    '',
    stageTable(doc),
    '',
    '</details>',
    '',
    profileNote(doc),
    '',
  ].join('\n');
  if (!before.trim()) return `# airprover\n\n${section}`;
  const start = before.search(/^## Speed[ \t]*$/m);
  if (start < 0) return `${before.replace(/\n*$/, '\n\n')}${section}`;
  const rest = before.slice(start + 1);
  const next = rest.search(/^## /m);
  const end = next < 0 ? before.length : start + 1 + next;
  const kept = keptBlocks(before.slice(start, end));
  const whole = kept.length ? `${section}\n${kept.join('\n')}` : section;
  return `${before.slice(0, start)}${whole}${next < 0 ? '' : '\n'}${before.slice(end)}`;
}
