/**
 * Mirrors a job folder to S3 file by file, as SageMaker uploads checkpoints
 * (/opt/ml/checkpoints → CheckpointConfig.S3Uri) and processing outputs (LocalPath →
 * S3Uri): each file once at the end, or — in continuous mode — every file that is new or
 * changed since the last pass, while the job runs. Keys are the S3 prefix plus the file's
 * path relative to the folder.
 */
import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { ObjectStore } from '../../store/objects/types.ts';
import { joinS3 } from './artifacts.ts';
import type { S3Location } from './channels.ts';

function walk(dir: string, rel = ''): string[] {
  if (!existsSync(path.join(dir, rel))) return [];
  return readdirSync(path.join(dir, rel)).flatMap((name) => {
    const relative = rel ? `${rel}/${name}` : name;
    const stat = statSync(path.join(dir, relative));
    return stat.isDirectory() ? walk(dir, relative) : stat.isFile() ? [relative] : [];
  });
}

export class DirectoryUploader {
  /** relative path → "mtime:size" of the version uploaded last. */
  private readonly uploaded = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> = Promise.resolve(0);

  constructor(
    private readonly objects: ObjectStore,
    private readonly dir: string,
    private readonly target: S3Location,
    private readonly onError: (e: unknown) => void = () => undefined,
    /** Called after each pass with the number of files it uploaded. */
    private readonly afterPass: (uploaded: number) => Promise<void> | void = () => undefined,
  ) {}

  /** Uploads what is new or changed; resolves to the number of files uploaded. Passes never overlap. */
  sync(): Promise<number> {
    this.running = this.running
      .catch(() => 0)
      .then(() => this.pass())
      .then(async (count) => {
        await this.afterPass(count);
        return count;
      });
    return this.running;
  }

  /** Syncs every `intervalMs` until stop(). */
  start(intervalMs: number): void {
    this.timer = setInterval(() => void this.sync().catch(this.onError), intervalMs);
    this.timer.unref();
  }

  /** Stops the periodic passes and makes one last one. */
  async stop(): Promise<number> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    return this.sync();
  }

  private async pass(): Promise<number> {
    let count = 0;
    for (const relative of walk(this.dir)) {
      const file = path.join(this.dir, relative);
      let version: string;
      try {
        const stat = statSync(file);
        version = `${stat.mtimeMs}:${stat.size}`;
      } catch {
        continue; // removed since the listing
      }
      if (this.uploaded.get(relative) === version) continue;
      const key = joinS3(this.target, relative);
      await this.objects.putObject({ bucket: key.bucket, key: key.key, body: createReadStream(file) });
      this.uploaded.set(relative, version);
      count++;
    }
    return count;
  }
}
