import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { bundleStructureProblem, compareVersions, refusalFor } from '../../../services/update/index.js';
import { tempDir } from '../../helpers/relais-process.js';

test('versions compare numerically; a prerelease is older than its release; build metadata is ignored', () => {
  assert.ok(compareVersions('1.10.0', '1.9.9') > 0);
  assert.ok(compareVersions('1.2', '1.2.1') < 0);
  assert.equal(compareVersions('1.2.0', '1.2'), 0);
  assert.ok(compareVersions('2.0.0-rc.1', '2.0.0') < 0);
  assert.ok(compareVersions('2.0.0-rc.10', '2.0.0-rc.2') > 0);
  assert.equal(compareVersions('1.0.0+build7', '1.0.0+build9'), 0);
});

test('bundle structure: garbage and truncation are found before RAUC is asked', () => {
  const dir = tempDir('structure-');
  const small = path.join(dir, 'small.raucb');
  fs.writeFileSync(small, 'hello');
  assert.match(bundleStructureProblem(small)!, /too small/);
  const notSquash = path.join(dir, 'zip.raucb');
  fs.writeFileSync(notSquash, Buffer.alloc(8192, 1));
  assert.match(bundleStructureProblem(notSquash)!, /squashfs/);
  const noTrailer = path.join(dir, 'cut.raucb');
  const b = Buffer.alloc(8192);
  b.write('hsqs', 0, 'latin1');
  b.writeBigUInt64BE(1n << 40n, 8192 - 8);
  fs.writeFileSync(noTrailer, b);
  assert.match(bundleStructureProblem(noTrailer)!, /trailer/);
});

test("RAUC's messages become errors a technician can act on", () => {
  assert.equal(refusalFor('org.gtk.GDBus.UnmappedGError.Quark._g_2dio_2derror_2dquark.Code30: rauc info error').code, 'update.signature_invalid');
  assert.equal(refusalFor('signature verification failed: Verify error: unable to get local issuer certificate').code, 'update.signature_invalid');
  assert.equal(refusalFor('Failed to mount bundle: squashfs').code, 'update.bundle_invalid');
});
