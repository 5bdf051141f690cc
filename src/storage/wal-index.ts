/**
 * How many WAL frames still await a checkpoint, read from SQLite's wal-index (the `-shm` file).
 *
 * The WAL file's size cannot tell: after a checkpoint SQLite writes the WAL again from its start
 * without shrinking the file (see database.ts). The wal-index header, whose layout is part of
 * SQLite's documented file format, holds `mxFrame` (valid frames in the WAL) at byte 16 and the
 * checkpoint info holds `nBackfill` (frames already copied into the database) at byte 96, both as
 * native-endian 32-bit integers. SQLite maps the file shared, so an ordinary read sees the values
 * its own connection last wrote.
 */
import { Buffer } from "node:buffer";
import fs from "node:fs";
import os from "node:os";

const MX_FRAME_OFFSET = 16;
const N_BACKFILL_OFFSET = 96;
const BYTES_NEEDED = 100;

export class WalIndexReader {
  readonly #shmPath: string;
  readonly #buffer = Buffer.alloc(BYTES_NEEDED);
  #fd: number | null = null;

  constructor(dbPath: string) {
    this.#shmPath = `${dbPath}-shm`;
  }

  /** Frames not yet checkpointed, or null when the wal-index cannot be read. */
  pendingFrames(): number | null {
    try {
      this.#fd ??= fs.openSync(this.#shmPath, "r");
      if (fs.readSync(this.#fd, this.#buffer, 0, BYTES_NEEDED, 0) < BYTES_NEEDED) return null;
    } catch {
      return null;
    }
    const little = os.endianness() === "LE";
    const mxFrame = little ? this.#buffer.readUInt32LE(MX_FRAME_OFFSET) : this.#buffer.readUInt32BE(MX_FRAME_OFFSET);
    const backfilled = little
      ? this.#buffer.readUInt32LE(N_BACKFILL_OFFSET)
      : this.#buffer.readUInt32BE(N_BACKFILL_OFFSET);
    return Math.max(0, mxFrame - backfilled);
  }

  close(): void {
    if (this.#fd !== null) fs.closeSync(this.#fd);
    this.#fd = null;
  }
}
