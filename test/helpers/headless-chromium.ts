import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { inflateSync } from 'node:zlib';

/** Debian's Chromium (installed by .ci/run), or NEXTCLICK_CHROMIUM. */
export const chromiumPath = process.env['NEXTCLICK_CHROMIUM'] ?? '/usr/bin/chromium';
export const haveChromium = existsSync(chromiumPath);

/** A screenshot and the console messages Chromium logged while rendering a page. */
export interface RenderedPage {
  readonly png: Buffer;
  /** Console lines (`INFO:CONSOLE... "message", source: ...`): errors, uncaught exceptions, console.* calls. */
  readonly consoleLines: string[];
  readonly stderr: string;
}

/**
 * Renders a local HTML file in headless Chromium, offline-minded flags and a fresh profile, and returns its
 * screenshot plus every console message (Chromium logs them to stderr with --enable-logging=stderr).
 */
export async function renderInChromium(htmlPath: string, size = { width: 1240, height: 2400 }, timeoutMs = 120_000): Promise<RenderedPage> {
  const profile = await mkdtemp(join(tmpdir(), 'nextclick-chromium-'));
  const shot = join(profile, 'shot.png');
  try {
    const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`, '--enable-logging=stderr', '--v=0', '--hide-scrollbars',
      `--window-size=${size.width},${size.height}`, `--screenshot=${shot}`, pathToFileURL(htmlPath).href];
    const stderr = await new Promise<string>((resolve, reject) => {
      const child = spawn(chromiumPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d) => (err += String(d)));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('error', (e) => { clearTimeout(timer); reject(e); });
      child.on('close', (code) => {
        clearTimeout(timer);
        if (code === 0) resolve(err);
        else reject(new Error(`chromium exited with ${String(code)}:\n${err.slice(-4000)}`));
      });
    });
    const png = await readFile(shot);
    return { png, consoleLines: stderr.split('\n').filter((l) => l.includes(':CONSOLE')), stderr };
  } finally {
    await rm(profile, { recursive: true, force: true });
  }
}

/** Decoded 8-bit RGB(A) PNG (non-interlaced, as Chromium writes screenshots), as RGBA. */
export function decodePng(buf: Buffer): { width: number; height: number; rgba: Uint8Array } {
  if (buf.readUInt32BE(0) !== 0x89504e47) throw new Error('not a PNG');
  let p = 8;
  let width = 0;
  let height = 0;
  let colourType = 0;
  const idat: Buffer[] = [];
  while (p < buf.length) {
    const len = buf.readUInt32BE(p);
    const type = buf.toString('latin1', p + 4, p + 8);
    const data = buf.subarray(p + 8, p + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      if (data[8] !== 8 || data[12] !== 0) throw new Error('only 8-bit non-interlaced PNGs are supported');
      colourType = data[9]!;
      if (colourType !== 2 && colourType !== 6) throw new Error(`PNG colour type ${colourType} not supported`);
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    p += 12 + len;
  }
  const bpp = colourType === 6 ? 4 : 3;
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * bpp;
  const px = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const src = y * (stride + 1) + 1;
    for (let x = 0; x < stride; x++) {
      const a = x >= bpp ? px[y * stride + x - bpp]! : 0;
      const b = y > 0 ? px[(y - 1) * stride + x]! : 0;
      const c = x >= bpp && y > 0 ? px[(y - 1) * stride + x - bpp]! : 0;
      let v = raw[src + x]!;
      if (filter === 1) v += a;
      else if (filter === 2) v += b;
      else if (filter === 3) v += (a + b) >> 1;
      else if (filter === 4) {
        const q = a + b - c;
        const pa = Math.abs(q - a);
        const pb = Math.abs(q - b);
        const pc = Math.abs(q - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      px[y * stride + x] = v & 0xff;
    }
  }
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    rgba[i * 4] = px[i * bpp]!;
    rgba[i * 4 + 1] = px[i * bpp + 1]!;
    rgba[i * 4 + 2] = px[i * bpp + 2]!;
    rgba[i * 4 + 3] = bpp === 4 ? px[i * bpp + 3]! : 255;
  }
  return { width, height, rgba };
}

/** Variance of pixel luminance (0 for a blank, one-colour image). */
export function luminanceVariance(img: { rgba: Uint8Array }): number {
  const n = img.rgba.length / 4;
  let sum = 0;
  let sq = 0;
  for (let i = 0; i < n; i++) {
    const l = 0.299 * img.rgba[i * 4]! + 0.587 * img.rgba[i * 4 + 1]! + 0.114 * img.rgba[i * 4 + 2]!;
    sum += l;
    sq += l * l;
  }
  const mean = sum / n;
  return sq / n - mean * mean;
}

/** Pixels within `tolerance` (per channel) of a `#rrggbb` colour. */
export function countColour(img: { rgba: Uint8Array }, hex: string, tolerance = 6): number {
  const r = parseInt(hex.slice(1, 3), 16);
  const g = parseInt(hex.slice(3, 5), 16);
  const b = parseInt(hex.slice(5, 7), 16);
  let n = 0;
  for (let i = 0; i < img.rgba.length; i += 4) {
    if (Math.abs(img.rgba[i]! - r) <= tolerance && Math.abs(img.rgba[i + 1]! - g) <= tolerance && Math.abs(img.rgba[i + 2]! - b) <= tolerance) n++;
  }
  return n;
}
