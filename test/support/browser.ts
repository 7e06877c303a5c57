import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's chromium (scripts/test.sh installs it when missing), or CHROMIUM_PATH. */
export function chromiumPath(): string {
  const file = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
  if (!existsSync(file)) throw new Error(`no Chromium at ${file}: install Debian's chromium (scripts/test.sh does) or set CHROMIUM_PATH`);
  return file;
}

/** Headless Chromium driven by playwright-core: no browser download, the system's executable. */
export function launchChromium(): Promise<Browser> {
  // Containers run tests as root, where Chromium's sandbox cannot start.
  return chromium.launch({ executablePath: chromiumPath(), headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}
