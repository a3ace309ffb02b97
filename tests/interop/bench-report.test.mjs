// `make bench-browser` rewrites README's `## Speed` section from its own numbers; measurements it
// does not make (benches/native-asm.sh's) are kept between `<!-- kept -->` markers. The README's
// own section is checked to have one, and the carry-over is checked on a small section.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { keptBlocks } from '../../benches/browser/report.mjs';

const ROOT = join(import.meta.dirname, '../..');

test("the hand-written blocks of README's Speed section are found whole, and nothing else", () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.search(/^## Speed[ \t]*$/m);
  const next = readme.slice(start + 1).search(/^## /m);
  const speed = readme.slice(start, next < 0 ? readme.length : start + 1 + next);
  const kept = keptBlocks(speed);
  assert.equal(kept.length, 1, 'the asm measurement is marked to be kept');
  assert.match(kept[0], /^<!-- kept -->\nNatively with the `asm` build/);
  assert.match(kept[0], /<!-- \/kept -->\n$/);

  const section = [
    '## Speed', 'generated',
    '<!-- kept -->', 'one', '<!-- /kept -->',
    'generated',
    '<!-- kept -->', 'two', 'lines', '<!-- /kept -->',
    '',
  ].join('\n');
  assert.deepEqual(keptBlocks(section), ['<!-- kept -->\none\n<!-- /kept -->\n', '<!-- kept -->\ntwo\nlines\n<!-- /kept -->\n']);
  assert.deepEqual(keptBlocks('## Speed\n<!-- kept -->\nnever closed\n'), []);
});
