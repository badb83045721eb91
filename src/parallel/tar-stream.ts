/**
 * Reads a stream of tar archives sent one after another (as `tar -cf -` writes them, one per
 * execution, over one ssh session) and reports each archive's regular files as they arrive,
 * and each archive's end as soon as its end-of-archive block is read, without waiting for
 * the stream to close. Between archives, a line that starts with `@` (which no tar header or
 * padding does) stands for a whole execution too: it is reported as it is, without its `@`. Enough of ustar for what tar writes for short file names: 512-byte
 * headers with octal (or base-256) sizes; entries of other types (directories, pax and GNU
 * long-name headers) are skipped; the zero blocks that end and pad an archive are skipped.
 */
export interface TarStreamHandler {
  /** A regular file begins; its content follows in {@link data} calls. */
  file(name: string, size: number): void;
  data(chunk: Buffer): void;
  /** The current archive is complete. */
  archiveEnd(): void;
  /** A `@` line between archives, without the `@` and the newline. */
  line(text: string): void;
}

const BLOCK = 512;

export class TarStreamReader {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes of the current entry's content still to come, then the padding to skip. */
  private contentLeft = 0;
  private paddingLeft = 0;
  private contentIsFile = false;
  /** Between archives: zero blocks are padding, the next header starts an archive. */
  private inArchive = false;
  /** A `@` line being read (between archives). */
  private lineParts: Buffer[] | undefined;

  constructor(private readonly handler: TarStreamHandler) {}

  /** Bytes read but not yet understood (a partial header). */
  get buffered(): number {
    return this.pendingBytes;
  }

  /** True while an archive has begun and not ended. */
  get midArchive(): boolean {
    return this.inArchive;
  }

  write(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.lineParts === undefined && !this.inArchive && this.pendingBytes === 0 && chunk[at] === 0x40) this.lineParts = [];
      if (this.lineParts !== undefined) {
        const nl = chunk.indexOf(0x0a, at);
        const end = nl < 0 ? chunk.length : nl;
        this.lineParts.push(chunk.subarray(at, end));
        at = end;
        if (nl < 0) return;
        at++;
        const text = Buffer.concat(this.lineParts).toString('utf8').slice(1);
        this.lineParts = undefined;
        this.handler.line(text);
        continue;
      }
      if (this.contentLeft > 0) {
        const n = Math.min(this.contentLeft, chunk.length - at);
        if (this.contentIsFile) this.handler.data(chunk.subarray(at, at + n));
        this.contentLeft -= n;
        at += n;
        continue;
      }
      if (this.paddingLeft > 0) {
        const n = Math.min(this.paddingLeft, chunk.length - at);
        this.paddingLeft -= n;
        at += n;
        continue;
      }
      // a header block, possibly split over chunks
      const need = BLOCK - this.pendingBytes;
      const n = Math.min(need, chunk.length - at);
      this.pending.push(chunk.subarray(at, at + n));
      this.pendingBytes += n;
      at += n;
      if (this.pendingBytes < BLOCK) return;
      const header = Buffer.concat(this.pending, BLOCK);
      this.pending = [];
      this.pendingBytes = 0;
      this.header(header);
    }
  }

  private header(block: Buffer): void {
    if (block.every((b) => b === 0)) {
      if (this.inArchive) {
        this.inArchive = false;
        this.handler.archiveEnd();
      }
      return;
    }
    this.inArchive = true;
    const size = parseSize(block.subarray(124, 136));
    const type = String.fromCharCode(block[156]!);
    this.contentLeft = size;
    this.paddingLeft = (BLOCK - (size % BLOCK)) % BLOCK;
    this.contentIsFile = type === '0' || type === '\0' || type === '7';
    if (this.contentIsFile) this.handler.file(entryName(block), size);
  }
}

function field(bytes: Buffer): string {
  const end = bytes.indexOf(0);
  return bytes.subarray(0, end < 0 ? bytes.length : end).toString('utf8');
}

function entryName(block: Buffer): string {
  const name = field(block.subarray(0, 100));
  const ustar = block.subarray(257, 262).toString('latin1') === 'ustar';
  const prefix = ustar ? field(block.subarray(345, 500)) : '';
  return (prefix ? `${prefix}/${name}` : name).replace(/^\.\//, '');
}

function parseSize(bytes: Buffer): number {
  if (bytes[0]! & 0x80) {
    // base-256 (GNU, for sizes of 8 GiB and more)
    let n = bytes[0]! & 0x7f;
    for (let i = 1; i < bytes.length; i++) n = n * 256 + bytes[i]!;
    return n;
  }
  const text = field(bytes).trim();
  return text ? parseInt(text, 8) : 0;
}
