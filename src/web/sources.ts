/**
 * Where the file page finds a file's source text: the sources packed with the commit's uploads
 * (`tributary upload --sources`). The access layer's store answers at merge; until then, none.
 */
export interface SourceReader {
  /** The file's text at that commit, or null when no upload of it carried the source. */
  read(repo: string, sha: string, path: string): Promise<string | null>;
}

export const noSources: SourceReader = { read: async () => null };
