// `nextclick setup tensorflow [--gpu]`: builds the `tensorflow` backend from the package registries alone.
// pip fetches the pinned TensorFlow 2.21 wheel (hash-checked) into .cache/tensorflow/download; its
// libtensorflow_cc.so.2 (the C and eager C API) and headers are unpacked; `npm pack` fetches tfjs-node's npm
// tarball (binding sources + dist/ kernels, no install script run); node-gyp (pinned, from npm, installed
// into the cache) compiles the binding against the wheel's library; the result is laid out as
// src/backend/tensorflow-build.ts expects and a manifest is written last. A second run with the same pins is
// a no-op. Nothing of this runs at `npm ci` time.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { MissingPrerequisiteError, NextclickError } from '../errors.js';
import {
  readTensorflowBuild,
  tensorflowBuildDirs,
  tensorflowCacheDir,
  TensorflowBuildLayout,
  tfjsCoreSymbol,
  type TensorflowBuildManifest,
  type TensorflowFlavour,
} from '../backend/tensorflow-build.js';

export const TENSORFLOW_VERSION = '2.21.0';
const TFJS_NODE_VERSION = '4.22.0';
const NODE_GYP_VERSION = '11.5.0';
const NAPI_VERSION = 8;

/** A file fetched by pip or `npm pack`, pinned by name and SHA-256. */
interface PinnedFile {
  readonly spec: string;
  readonly file: string;
  readonly sha256: string;
}

/**
 * The wheels (cp311 manylinux_2_27 x86-64: the C library inside is the same for every Python tag, so the
 * download does not depend on the local Python's version). The gpu wheel is the `tensorflow` one whose
 * library has RUNPATH $ORIGIN/../nvidia/* /lib; its `and-cuda` extra names the CUDA 12 packages.
 */
const wheels: Record<TensorflowFlavour, PinnedFile> = {
  cpu: { spec: `tensorflow-cpu==${TENSORFLOW_VERSION}`, file: `tensorflow_cpu-${TENSORFLOW_VERSION}-cp311-cp311-manylinux_2_27_x86_64.whl`, sha256: '2b847d217b02ee7731ed91431daf3250daa0196c3c94614d23be27232e6e5b6c' },
  gpu: { spec: `tensorflow==${TENSORFLOW_VERSION}`, file: `tensorflow-${TENSORFLOW_VERSION}-cp311-cp311-manylinux_2_27_x86_64.whl`, sha256: '9056fbc9ba04235810b71ae6cbd958a196e8804fb53bbcffbf3e23b56155f124' },
};
// pip takes only the platform tags named (no implied older manylinux): some CUDA wheels are manylinux2014 (2_17) ones.
const wheelPlatform = ['--only-binary=:all:', '--platform', 'manylinux_2_27_x86_64', '--platform', 'manylinux_2_17_x86_64', '--platform', 'manylinux2014_x86_64', '--python-version', '3.11', '--implementation', 'cp'];

const tfjsNodeTarballs: Record<TensorflowFlavour, PinnedFile & { readonly name: string }> = {
  cpu: { name: '@tensorflow/tfjs-node', spec: `@tensorflow/tfjs-node@${TFJS_NODE_VERSION}`, file: `tensorflow-tfjs-node-${TFJS_NODE_VERSION}.tgz`, sha256: 'd38a448a705efc6e655a080f896b3af646ae39dffbfe9c90b06cb9fc3a2b9358' },
  gpu: { name: '@tensorflow/tfjs-node-gpu', spec: `@tensorflow/tfjs-node-gpu@${TFJS_NODE_VERSION}`, file: `tensorflow-tfjs-node-gpu-${TFJS_NODE_VERSION}.tgz`, sha256: 'afd5599ee1662e732c00a0ad1f52a3d001bdc118a1f44bd592a0a0ebf2daa4c7' },
};
/** tfjs-node's dist/ requires it (the summary protobufs); no dependencies of its own. */
const googleProtobuf: PinnedFile = { spec: 'google-protobuf@3.21.4', file: 'google-protobuf-3.21.4.tgz', sha256: '38299bb1802ce06900ea2e43650aded8393cd6a00012ed97ffc716eeab1e1091' };

/** The manifest fields a build must have to count as current (a second setup with them is a no-op). */
export function pinnedTensorflowBuild(flavour: TensorflowFlavour): Omit<TensorflowBuildManifest, 'tensorflowVersion' | 'builtAt'> {
  const wheel = wheels[flavour];
  const tarball = tfjsNodeTarballs[flavour];
  return {
    flavour, wheel: wheel.file, wheelSha256: wheel.sha256, tfjsNodePackage: tarball.name, tfjsNodeVersion: TFJS_NODE_VERSION,
    tfjsNodeSha256: tarball.sha256, napiVersion: NAPI_VERSION, nodeGypVersion: NODE_GYP_VERSION,
  };
}

/** Options for {@link setupTensorflow}. */
export interface TensorflowSetupOptions {
  /** Build the GPU flavour (tensorflow[and-cuda] wheel, tfjs-node-gpu sources). @defaultValue false */
  readonly gpu?: boolean;
  /** Build directory. @defaultValue NEXTCLICK_TENSORFLOW_DIR, else .cache/tensorflow/cpu (or gpu) */
  readonly dir?: string;
  /** Rebuild even when a build with the same pins is there. @defaultValue false */
  readonly force?: boolean;
  /** Receives one line per step. @defaultValue no output */
  readonly log?: (line: string) => void;
  /** Environment the tools run in (PATH; PYTHON and CXX name other interpreters/compilers). @defaultValue process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** The Node executable whose headers (<prefix>/include/node) the binding is compiled against. @defaultValue process.execPath */
  readonly execPath?: string;
}

export interface TensorflowSetupResult {
  readonly dir: string;
  readonly flavour: TensorflowFlavour;
  /** False when a build with the same pins was already there (nothing was done). */
  readonly built: boolean;
  readonly seconds: number;
  readonly manifest: TensorflowBuildManifest;
}

/** Builds (or finds) the `tensorflow` backend; see the file comment. Throws MissingPrerequisiteError naming the Debian package of a missing tool. */
export async function setupTensorflow(options: TensorflowSetupOptions = {}): Promise<TensorflowSetupResult> {
  const t0 = performance.now();
  const flavour: TensorflowFlavour = options.gpu ? 'gpu' : 'cpu';
  const env = options.env ?? process.env;
  const log = options.log ?? (() => {});
  const cache = tensorflowCacheDir();
  const dir = resolve(options.dir ?? (env['NEXTCLICK_TENSORFLOW_DIR']?.trim() || join(cache, flavour)));
  const wheel = wheels[flavour];
  const tarball = tfjsNodeTarballs[flavour];
  const seconds = () => (performance.now() - t0) / 1000;

  const existing = readTensorflowBuild(dir);
  const pinned = pinnedTensorflowBuild(flavour);
  if (existing && !options.force && (Object.keys(pinned) as (keyof typeof pinned)[]).every((key) => existing[key] === pinned[key])) {
    log(`TensorFlow ${existing.tensorflowVersion} (${flavour}) is already built in ${dir}; nothing to do (--force rebuilds)`);
    return { dir, flavour, built: false, seconds: seconds(), manifest: existing };
  }
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new NextclickError('BACKEND_UNAVAILABLE', `setup tensorflow builds for Linux x86-64 only (this is ${process.platform}-${process.arch}); use the webgpu or wasm backend here`);
  }
  const tools = checkTensorflowPrerequisites({ env, execPath: options.execPath ?? process.execPath });
  const downloads = join(cache, 'download');
  await mkdir(downloads, { recursive: true });
  await mkdir(dir, { recursive: true });
  const logFile = join(dir, 'setup.log');
  await writeFile(logFile, '');
  const step = (n: number, text: string) => log(`[${n}/6 at ${seconds().toFixed(0)} s] ${text}`);

  step(1, `${wheel.spec} wheel (pip, sha256-checked) into ${downloads}`);
  if (!(await hasSha256(join(downloads, wheel.file), wheel.sha256))) {
    const requirements = join(downloads, `${flavour}-requirements.txt`);
    await writeFile(requirements, `${wheel.spec} --hash=sha256:${wheel.sha256}\n`);
    await run(tools.python, ['-m', 'pip', 'download', '--no-deps', '--require-hashes', '--disable-pip-version-check', ...wheelPlatform, '-d', downloads, '-r', requirements], { env, logFile, what: `pip download ${wheel.spec}` });
    await expectSha256(join(downloads, wheel.file), wheel.sha256);
  }

  step(2, `${tarball.spec} and ${googleProtobuf.spec} (npm pack, sha256-checked; no install scripts run)`);
  for (const npmFile of [tarball, googleProtobuf]) {
    if (await hasSha256(join(downloads, npmFile.file), npmFile.sha256)) continue;
    await run('npm', ['pack', npmFile.spec, '--pack-destination', downloads, '--silent'], { env, logFile, what: `npm pack ${npmFile.spec}` });
    await expectSha256(join(downloads, npmFile.file), npmFile.sha256);
  }

  // A fresh layout: only the parts this setup owns are removed (dir may be a user's NEXTCLICK_TENSORFLOW_DIR).
  for (const part of [TensorflowBuildLayout.manifest, TensorflowBuildLayout.tfjsNode, TensorflowBuildLayout.site, TensorflowBuildLayout.nodeModules]) {
    await rm(join(dir, part), { recursive: true, force: true });
  }
  const site = join(dir, TensorflowBuildLayout.site);
  step(3, `libtensorflow and headers from the wheel into ${site}${flavour === 'gpu' ? ', and the CUDA 12 libraries of its and-cuda extra (pip)' : ''}`);
  const cudaRequirements = (await run(tools.python, ['-c', unpackWheelScript, join(downloads, wheel.file), site], { env, logFile, what: 'unpacking the wheel', capture: true }))
    .split('\n').map((l) => l.trim()).filter((l) => l !== '');
  if (flavour === 'gpu') {
    await run(tools.python, ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-compile', ...wheelPlatform, '--target', site, ...cudaRequirements], { env, logFile, what: 'pip install of the CUDA 12 libraries' });
  }
  const libDir = join(site, 'tensorflow');
  await symlink('libtensorflow_cc.so.2', join(libDir, 'libtensorflow.so'));
  await symlink('libtensorflow_framework.so.2', join(libDir, 'libtensorflow_framework.so'));

  const source = join(dir, TensorflowBuildLayout.tfjsNode);
  step(4, `${tarball.name} sources into ${source}`);
  await unpackTarball(join(downloads, tarball.file), source, env, logFile);
  await patchBindingGyp(join(source, 'binding.gyp'), libDir);
  await mkdir(join(source, 'deps'), { recursive: true });
  await symlink('../../site/tensorflow/include', join(source, 'deps', 'include'));
  const modules = join(dir, TensorflowBuildLayout.nodeModules);
  await unpackTarball(join(downloads, googleProtobuf.file), join(modules, 'google-protobuf'), env, logFile);
  for (const name of ['@tensorflow/tfjs', '@tensorflow/tfjs-core']) await writeCoreStandIn(join(modules, name), name);

  step(5, `node-gyp ${NODE_GYP_VERSION} build of the binding (N-API ${NAPI_VERSION}) against Node's headers in ${tools.nodeInclude}`);
  const nodeGyp = await installNodeGyp(cache, env, logFile);
  const nodeDir = await nodeGypNodeDir(cache, tools.nodeInclude);
  await run(process.execPath, [nodeGyp, 'rebuild', `--nodedir=${nodeDir}`, `--napi_build_version=${NAPI_VERSION}`, '--module_name=tfjs_binding', '--module_path=lib/napi-v8', '-j', String(availableParallelism())],
    { env: { ...env, PYTHON: tools.python, npm_config_nodedir: nodeDir }, cwd: source, logFile, what: 'node-gyp rebuild' });

  step(6, 'loading the binding in a fresh process');
  const binding = join(source, TensorflowBuildLayout.binding);
  const version = (await run(process.execPath, ['-e', `process.stdout.write(require(${JSON.stringify(binding)}).TF_Version)`], { env: { ...env, TF_CPP_MIN_LOG_LEVEL: '2' }, logFile, what: 'loading the built binding', capture: true })).trim();
  if (version !== TENSORFLOW_VERSION) throw new NextclickError('BACKEND_UNAVAILABLE', `the built binding reports TensorFlow "${version}", expected ${TENSORFLOW_VERSION}; see ${logFile}`);
  const manifest: TensorflowBuildManifest = { ...pinned, tensorflowVersion: version, builtAt: new Date().toISOString() };
  await writeFile(join(dir, TensorflowBuildLayout.manifest), JSON.stringify(manifest, null, 2) + '\n');
  const found = tensorflowBuildDirs(env).includes(dir);
  log(`TensorFlow ${version} (${flavour}) built in ${dir} in ${seconds().toFixed(0)} s; ${found ? '' : `with NEXTCLICK_TENSORFLOW_DIR=${dir}, `}NEXTCLICK_BACKEND=tensorflow (or the auto order) uses it`);
  return { dir, flavour, built: true, seconds: seconds(), manifest };
}

/** Tools found by {@link checkTensorflowPrerequisites}. */
export interface TensorflowPrerequisites {
  readonly python: string;
  /** Directory holding node_api.h and common.gypi. */
  readonly nodeInclude: string;
}

/**
 * Checks every tool the build needs before anything is downloaded, throwing MissingPrerequisiteError with
 * the Debian package that provides the first one missing.
 */
export function checkTensorflowPrerequisites(options: { env: NodeJS.ProcessEnv; execPath: string }): TensorflowPrerequisites {
  const { env } = options;
  const python = env['PYTHON']?.trim() || 'python3';
  const works = (cmd: string, args: string[]) => {
    const r = spawnSync(cmd, args, { env, stdio: 'ignore' });
    return r.error === undefined && r.status === 0;
  };
  if (!works(python, ['--version'])) {
    throw new MissingPrerequisiteError('python3', 'python3', `Python 3 ("${python}") was not found: pip fetches the TensorFlow wheel with it and node-gyp runs on it. Install it (apt-get install python3) or set PYTHON.`);
  }
  if (!works(python, ['-m', 'pip', '--version'])) {
    throw new MissingPrerequisiteError('pip', 'python3-pip', `pip is not available to ${python} ("${python} -m pip" failed): it fetches the TensorFlow wheel. Install it (apt-get install python3-pip).`);
  }
  const cxx = env['CXX']?.trim() || 'g++';
  if (!works(cxx, ['--version'])) {
    throw new MissingPrerequisiteError('g++', 'g++', `No C++ compiler ("${cxx}") was found to build the tfjs-node binding. Install one (apt-get install g++, or build-essential) or set CXX.`);
  }
  if (!works('make', ['--version'])) {
    throw new MissingPrerequisiteError('make', 'make', 'make was not found (node-gyp builds with it). Install it (apt-get install make, or build-essential).');
  }
  if (!works('npm', ['--version'])) {
    throw new MissingPrerequisiteError('npm', 'npm', 'npm was not found: it fetches the tfjs-node sources and node-gyp. Install it (apt-get install npm).');
  }
  if (!works('tar', ['--version'])) {
    throw new MissingPrerequisiteError('tar', 'tar', 'tar was not found (it unpacks the npm tarballs). Install it (apt-get install tar).');
  }
  const nodeInclude = join(dirname(dirname(options.execPath)), 'include', 'node');
  for (const header of ['node_api.h', 'common.gypi']) {
    if (!existsSync(join(nodeInclude, header))) {
      throw new MissingPrerequisiteError('node-headers', 'libnode-dev',
        `Node's headers are missing: ${join(nodeInclude, header)} does not exist (${options.execPath} is the Node used). They come with the nodejs package from NodeSource, or libnode-dev with Debian's own nodejs (apt-get install libnode-dev); a Node from nodejs.org's tarball has them next to bin/.`);
    }
  }
  return { python, nodeInclude };
}

/**
 * Unpacks what the binding needs from a wheel: tensorflow/include/** and the two shared libraries; prints the
 * wheel's `and-cuda` requirements (one a line) for the gpu flavour. Run by the setup's Python.
 */
const unpackWheelScript = `
import email, sys, zipfile
wheel, target = sys.argv[1], sys.argv[2]
z = zipfile.ZipFile(wheel)
libs = ('tensorflow/libtensorflow_cc.so.2', 'tensorflow/libtensorflow_framework.so.2')
names = [n for n in z.namelist() if n.startswith('tensorflow/include/') or n in libs]
missing = [l for l in libs if l not in names]
if missing: sys.exit('the wheel lacks ' + ', '.join(missing))
z.extractall(target, names)
meta = email.message_from_bytes(z.read(next(n for n in z.namelist() if n.endswith('.dist-info/METADATA'))))
for r in meta.get_all('Requires-Dist') or []:
    spec, _, marker = r.partition(';')
    if 'and-cuda' in marker: print(spec.strip())
`;

/** Points the binding's link path and RUNPATH at the wheel's library directory instead of tfjs-node's deps/lib. */
async function patchBindingGyp(file: string, libDir: string): Promise<void> {
  const original = await readFile(file, 'utf8');
  const rpath = "'-Wl,-rpath,\\$$ORIGIN/../../deps/lib',";
  const libraryDirs = "'library_dirs' : ['<(module_root_dir)/deps/lib'],";
  if (!original.includes(rpath) || !original.includes(libraryDirs)) {
    throw new NextclickError('BACKEND_UNAVAILABLE', `${file} does not have the linker settings this setup patches (tfjs-node ${TFJS_NODE_VERSION} expected)`);
  }
  // The binding lands in tfjs-node/build/Release; the wheel's libraries are in site/tensorflow.
  // Replacer functions: a replacement string would turn gyp's `$$` into `$`.
  const patched = original
    .replace(rpath, () => "'-Wl,-rpath,\\$$ORIGIN/../../../site/tensorflow',")
    .replace(libraryDirs, () => `'library_dirs' : [${JSON.stringify(libDir).replaceAll('"', "'")}],`);
  await writeFile(file, patched);
}

/** A CommonJS package that returns the tfjs-core instance the loader put at {@link tfjsCoreSymbol}. */
async function writeCoreStandIn(dir: string, name: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name, version: TFJS_NODE_VERSION, main: 'index.js', private: true }) + '\n');
  await writeFile(join(dir, 'index.js'), `'use strict';
// Written by \`nextclick setup tensorflow\`: tfjs-node's kernels get nextclick's own tfjs-core instance.
const core = globalThis[Symbol.for(${JSON.stringify(tfjsCoreSymbol.description)})];
if (!core) throw new Error('${name} stand-in: load this build through nextclick (selectBackend), not directly');
module.exports = core;
`);
}

async function installNodeGyp(cache: string, env: NodeJS.ProcessEnv, logFile: string): Promise<string> {
  const prefix = join(cache, 'tools', `node-gyp-${NODE_GYP_VERSION}`);
  const bin = join(prefix, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  if (!existsSync(bin)) {
    await run('npm', ['install', '--prefix', prefix, '--no-audit', '--no-fund', '--ignore-scripts', '--no-save', `node-gyp@${NODE_GYP_VERSION}`], { env, logFile, what: `npm install node-gyp@${NODE_GYP_VERSION}` });
  }
  return bin;
}

/** node-gyp's --nodedir wants include/node and common.gypi at one root; lay that out over the found headers. */
async function nodeGypNodeDir(cache: string, nodeInclude: string): Promise<string> {
  const root = join(cache, 'node-headers', process.version);
  await rm(root, { recursive: true, force: true });
  await mkdir(join(root, 'include'), { recursive: true });
  await symlink(nodeInclude, join(root, 'include', 'node'));
  await copyFile(join(nodeInclude, 'common.gypi'), join(root, 'common.gypi'));
  return root;
}

async function unpackTarball(file: string, target: string, env: NodeJS.ProcessEnv, logFile: string): Promise<void> {
  await mkdir(target, { recursive: true });
  await run('tar', ['xzf', file, '-C', target, '--strip-components=1'], { env, logFile, what: `unpacking ${file}` });
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function hasSha256(file: string, sha256: string): Promise<boolean> {
  return existsSync(file) && (await sha256Of(file)) === sha256;
}

async function expectSha256(file: string, sha256: string): Promise<void> {
  if (!existsSync(file)) throw new NextclickError('BACKEND_UNAVAILABLE', `the download did not produce ${file}`);
  const actual = await sha256Of(file);
  if (actual !== sha256) {
    await rm(file, { force: true });
    throw new NextclickError('BACKEND_UNAVAILABLE', `${file} has sha256 ${actual}, pinned ${sha256}: removed it; run the setup again (if it repeats, the registry serves a different file)`, { retriable: true });
  }
}

interface RunOptions {
  readonly env: NodeJS.ProcessEnv;
  readonly logFile: string;
  /** Names the step in the error. */
  readonly what: string;
  readonly cwd?: string;
  /** Return stdout instead of appending it to the log. */
  readonly capture?: boolean;
}

/** Runs a tool with its output appended to the setup log; a failure names the step and shows the log's tail. */
async function run(cmd: string, args: readonly string[], options: RunOptions): Promise<string> {
  const out = createWriteStream(options.logFile, { flags: 'a' });
  out.write(`\n$ ${cmd} ${args.join(' ')}\n`);
  const child = spawn(cmd, args, { env: options.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let captured = '';
  child.stdout.on('data', (d: Buffer) => { if (options.capture) captured += d.toString(); else out.write(d); });
  child.stderr.on('data', (d: Buffer) => out.write(d));
  const code = await new Promise<number | string>((done) => {
    child.on('error', (err) => done((err as NodeJS.ErrnoException).code ?? err.message));
    child.on('close', (status, signal) => done(status ?? signal ?? 'killed'));
  });
  await new Promise<void>((done) => out.end(done));
  if (code !== 0) {
    const tail = (await readFile(options.logFile, 'utf8')).trimEnd().split('\n').slice(-15).join('\n');
    throw new NextclickError('BACKEND_UNAVAILABLE', `${options.what} failed (${code}); the end of ${options.logFile}:\n${tail}`);
  }
  return captured;
}
