// Judge replies on disk, one small JSON file per request: <directory>/<first two hex digits>/<sha256>.json, keyed
// by the sha256 of the exact request body sent (model, messages, sampling settings; never the key or the URL, so
// the same question to another address of the same model is a hit). Written under a temporary name and renamed,
// so a run stopped mid-write leaves no half file. A file that does not read back is treated as absent.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UnavailableError } from '@lsp/core';

export interface CachedReply {
  /** The reply's text: choices[0].message.content. */
  content: string;
  /** The model that answered, as the server named it. */
  model?: string;
}

export function requestKey(body: string): string {
  return createHash('sha256').update(body).digest('hex');
}

export class ReplyCache {
  constructor(readonly directory: string) {}

  private path(key: string): string {
    return join(this.directory, key.slice(0, 2), `${key}.json`);
  }

  read(key: string): CachedReply | undefined {
    try {
      const value = JSON.parse(readFileSync(this.path(key), 'utf8')) as CachedReply;
      return typeof value?.content === 'string' ? value : undefined;
    } catch {
      return undefined;
    }
  }

  write(key: string, reply: CachedReply): void {
    const path = this.path(key);
    try {
      mkdirSync(join(this.directory, key.slice(0, 2)), { recursive: true });
      const temporary = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
      writeFileSync(temporary, JSON.stringify(reply));
      renameSync(temporary, path);
    } catch (error) {
      throw new UnavailableError(`judge openai: cannot write the reply cache in ${this.directory} (${error instanceof Error ? error.message : String(error)})`, {
        hint: 'free space or fix permissions there, or set cacheDirectory in judgeOptions to another folder (false caches nothing)',
      });
    }
  }
}
