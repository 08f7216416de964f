import { CliUsageError, stringOption, type CliCommand } from '../command.js';
import { setupTensorflow } from '../tensorflow-setup.js';

export const command: CliCommand = {
  name: 'setup',
  summary: 'build an optional backend: `setup tensorflow [--gpu]` (native TensorFlow from PyPI + npm)',
  usage: `
nextclick setup tensorflow [--gpu] [--dir DIR] [--force] [--json]

Builds the native \`tensorflow\` backend from the package registries: pip fetches the pinned TensorFlow 2.21
wheel (sha256-checked) into .cache/tensorflow, npm fetches @tensorflow/tfjs-node's sources, node-gyp compiles
its binding against the wheel's libtensorflow. Needs python3 + pip, g++, make, npm and Node's headers (the
error names the Debian package of whatever is missing). A second run is a no-op. Then NEXTCLICK_BACKEND=tensorflow
(or the auto order) uses it. Linux x86-64 only.

  --gpu        the CUDA 12 flavour: tensorflow[and-cuda] (CUDA libraries from PyPI, several GB) and tfjs-node-gpu
  --dir DIR    build directory (default NEXTCLICK_TENSORFLOW_DIR, else .cache/tensorflow/cpu or gpu); point
               NEXTCLICK_TENSORFLOW_DIR at it to use a directory other than the default
  --force      rebuild even if the same build is there
  --json       print the result as one JSON object
`,
  options: {
    gpu: { type: 'boolean' },
    dir: { type: 'string' },
    force: { type: 'boolean' },
  },
  positionals: true,
  async run(values, io, positionals = []) {
    const [what, ...extra] = positionals;
    if (what !== 'tensorflow' || extra.length > 0) {
      throw new CliUsageError(what === undefined ? 'name what to set up: `nextclick setup tensorflow [--gpu]`' : `cannot set up "${positionals.join(' ')}"; the one optional backend built here is \`tensorflow\``);
    }
    const json = values['json'] === true;
    const dir = stringOption(values, 'dir');
    const result = await setupTensorflow({
      gpu: values['gpu'] === true,
      force: values['force'] === true,
      ...(dir !== undefined ? { dir } : {}),
      log: (line) => io.stderr.write(`setup: ${line}\n`),
    });
    if (json) io.stdout.write(JSON.stringify({ ok: true, ...result }) + '\n');
    else io.stdout.write(`tensorflow (${result.flavour}) ${result.built ? 'built' : 'already built'} in ${result.dir}\n`);
    return 0;
  },
};
