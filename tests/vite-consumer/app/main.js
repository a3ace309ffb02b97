// Proves /claim.json with the keys of /keys/manifest.json: the README's usage example, as is.
import { createProver } from 'airprover';

const show = (text) => (document.querySelector('#status').textContent = text);
try {
  const prover = await createProver({ manifestUrl: '/keys/manifest.json' });
  const claim = await (await fetch('/claim.json')).json();
  const job = prover.submit(claim, { priority: 'HIGH' });
  const stages = [];
  job.progress.subscribe(({ stage, percent }) => {
    stages.push(stage);
    show(`${stage} ${Math.round(percent)}%`);
  });
  const { proof, publicSignals } = await job.result;
  const { build, reason } = prover.status.value;
  show(`verified (${build}: ${reason})`);
  window.consumerResult = { proof, publicSignals, build, stages: [...new Set(stages)] };
  prover.terminate();
} catch (e) {
  show(`${e.code}: ${e.message}`);
  window.consumerResult = { error: `${e.code}: ${e.message}` };
}
