// Stand-in for the optional native `usocket` addon of dbus-next (package.json "overrides").
// The real one pulls node-gyp 7 into node_modules, whose `node-gyp rebuild` then breaks better-sqlite3's build on
// Node 20, and Relais never needs it: dbus-next falls back to net.createConnection for unix:path= addresses when
// USocket cannot be constructed, and Relais passes no file descriptors over D-Bus (docs/firmware.md).
'use strict';
module.exports = {};
