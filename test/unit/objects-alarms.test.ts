/**
 * The node's alarm list as its one writer, the object's isolate (`ObjectAlarms`), keeps it: every
 * committed change is written and reported to the host's clock, and after an alarm's last retry
 * failed the alarm leaves the list, unless the object set another one meanwhile.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, test } from "node:test";
import { ALARM_MAX_RETRIES, ObjectAlarms, readAlarmIndex, type ObjectAddress } from "../../src/objects/index.js";

let dir: string;
let n = 0;
const opened: ObjectAlarms[] = [];
before(() => {
  dir = mkdtempSync(join(tmpdir(), "ledge-objects-alarms-"));
});
afterEach(() => {
  for (const a of opened.splice(0)) a.close();
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A fresh persist folder, an owner writing into it, and what the owner told the host. */
function owner(persistDir = join(dir, `node-${++n}`)): { alarms: ObjectAlarms; told: [string, number | null][]; persistDir: string } {
  const told: [string, number | null][] = [];
  const alarms = new ObjectAlarms(persistDir, (target, time) => told.push([target.id, time]));
  opened.push(alarms);
  return { alarms, told, persistDir };
}

const room: ObjectAddress = { app: "chat", className: "Room", id: "a".repeat(64), name: "lobby" };
const other: ObjectAddress = { app: "chat", className: "Room", id: "b".repeat(64) };

test("a committed change is in the list (with the object's name) and reported to the host", () => {
  const { alarms, told, persistDir } = owner();
  alarms.committed(room, 1000);
  alarms.committed(other, 2000);
  alarms.committed(room, 1500);
  assert.deepEqual(
    readAlarmIndex(persistDir).sort((x, y) => x.time - y.time),
    [
      { app: "chat", class: "Room", id: room.id, name: "lobby", time: 1500 },
      { app: "chat", class: "Room", id: other.id, name: null, time: 2000 },
    ],
  );
  alarms.committed(other, null);
  assert.deepEqual(readAlarmIndex(persistDir).map((r) => r.id), [room.id]);
  assert.deepEqual(told, [[room.id, 1000], [other.id, 2000], [room.id, 1500], [other.id, null]]);
});

test("a failed alarm stays listed until its last retry failed", () => {
  const { alarms, told, persistDir } = owner();
  alarms.committed(room, 1000);
  for (let retry = 0; retry < ALARM_MAX_RETRIES; retry++) {
    alarms.failed(room, 1000, retry);
    assert.equal(readAlarmIndex(persistDir).length, 1, `after try ${retry}`);
  }
  alarms.failed(room, 1000, ALARM_MAX_RETRIES);
  assert.deepEqual(readAlarmIndex(persistDir), []);
  assert.deepEqual(told, [[room.id, 1000]], "dropping a failed alarm is not a change the host must hear of");
});

test("after the last retry, an alarm the object set meanwhile stays", () => {
  const { alarms, persistDir } = owner();
  alarms.committed(room, 1000);
  alarms.committed(room, 5000);
  alarms.failed(room, 1000, ALARM_MAX_RETRIES);
  assert.deepEqual(readAlarmIndex(persistDir).map((r) => r.time), [5000]);
});

test("the isolates of one node share the list (one owner per object)", () => {
  const first = owner();
  const second = owner(first.persistDir);
  first.alarms.committed(room, 1000);
  second.alarms.committed(other, 2000);
  assert.deepEqual(readAlarmIndex(first.persistDir).map((r) => r.id).sort(), [room.id, other.id]);
});
