import type { Activities } from '../../src/activities';

/** A stand-in's processUploads: its own processUpload over the chunk's uploads, one after the other, as the real one. */
export function processUploadsVia(processUpload: Activities['processUpload']): Activities['processUploads'] {
  return async ({ uploads, ...rest }) => {
    const summaries = [];
    for (const u of uploads) summaries.push(await processUpload({ ...rest, uploadId: u.uploadId, session: u.session }));
    return summaries;
  };
}
