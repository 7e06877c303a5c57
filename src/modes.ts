/** How a commit's uploads are processed (see README). */
export const UPLOAD_MODES = ['serial', 'parallel', 'experiment'] as const;
export type UploadMode = (typeof UPLOAD_MODES)[number];
