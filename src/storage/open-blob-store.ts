import type { Config } from '../config';
import type { BlobStore } from './blob-store';
import { FsBlobStore } from './fs-blob-store';
import { S3BlobStore } from './s3-blob-store';

/** The blob store the configuration asks for: the data folder by default, S3 when configured. */
export function openBlobStore(config: Pick<Config, 'blobs'>): BlobStore {
  const { blobs } = config;
  if (blobs.kind === 's3') {
    // loadConfig refuses s3 without a bucket; this guards hand-built configurations.
    if (blobs.s3 === undefined) throw new Error('the s3 blob store needs its settings (S3_BUCKET at least)');
    return new S3BlobStore(blobs.s3);
  }
  return new FsBlobStore(blobs.dir);
}
