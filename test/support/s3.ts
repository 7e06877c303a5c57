import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';

const script = path.resolve(__dirname, '../../scripts/s3.sh');
const run = promisify(execFile);

const ScriptOutput = z.object({
  TEST_S3_ENDPOINT: z.url({ protocol: /^https?$/ }),
  TEST_S3_BUCKET: z.string().min(1),
  TEST_S3_ACCESS_KEY_ID: z.string().min(1),
  TEST_S3_SECRET_ACCESS_KEY: z.string().min(1),
  S3_STARTED: z.enum(['yes', 'no']),
});

/** A real S3-compatible server with a bucket, as scripts/s3.sh provides it. */
export interface S3UnderTest {
  endpoint: string;
  bucket: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** The configuration variables (src/config.ts) of an s3 blob store on this server. */
  configEnv(): Record<string, string>;
  /** Stops the server if this call started it. */
  release(): Promise<void>;
}

/**
 * The server of TEST_S3_ENDPOINT (scripts/test.sh starts one and exports it), else one started
 * through the same script for this file alone. The script is the one place that knows the
 * defaults (bucket, keys), so it is asked in both cases.
 */
export async function realS3(): Promise<S3UnderTest> {
  // Building the server the first time takes minutes; the script reports its progress on stderr.
  const child = run('bash', [script], { encoding: 'utf8', maxBuffer: 1 << 20 });
  child.child.stderr?.pipe(process.stderr);
  const { stdout } = await child;
  const fields = Object.fromEntries(
    stdout
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
  const out = ScriptOutput.parse(fields);
  const credentials = { accessKeyId: out.TEST_S3_ACCESS_KEY_ID, secretAccessKey: out.TEST_S3_SECRET_ACCESS_KEY };
  return {
    endpoint: out.TEST_S3_ENDPOINT,
    bucket: out.TEST_S3_BUCKET,
    credentials,
    configEnv: () => ({
      TRIBUTARY_BLOB_STORE: 's3',
      S3_ENDPOINT: out.TEST_S3_ENDPOINT,
      S3_BUCKET: out.TEST_S3_BUCKET,
      S3_ACCESS_KEY_ID: credentials.accessKeyId,
      S3_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    }),
    async release() {
      if (out.S3_STARTED === 'yes') await run('bash', [script, 'stop'], { encoding: 'utf8' });
    },
  };
}
